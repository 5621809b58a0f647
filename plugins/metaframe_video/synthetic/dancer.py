"""Render one synthetic dancer's video offscreen with pybullet, with exact 2D keypoints.

The DeepMimic humanoid is posed frame by frame from motion capture (:mod:`metaframe_video.synthetic.motion`),
recoloured per body part, drawn by pybullet's CPU renderer (``ER_TINY_RENDERER``) at twice the output
size and averaged down (anti-aliasing), then composited over the identity's background through the
renderer's segmentation mask. Keypoints are the humanoid's joint positions (and points on its head)
projected with the same view and projection matrices.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from metaframe_video.synthetic.identity import STANDING_HEIGHT, Identity, backdrop_image
from metaframe_video.synthetic.motion import JOINTS, Pose, load_clip, timeline

SUPERSAMPLE = 2
NEAR, FAR = 0.05, 60.0
HEAD_LINK = 2
# COCO-17 keypoint → (link, offset in that link's frame, metres). Offsets place the face on the head
# sphere (centre 0.175 above the neck joint, radius 0.1); the humanoid faces +x, its right is +z.
KEYPOINT_LINKS: tuple[tuple[int, tuple[float, float, float]], ...] = (
    (HEAD_LINK, (0.100, 0.160, 0.0)),  # nose
    (HEAD_LINK, (0.082, 0.195, -0.035)),  # left eye
    (HEAD_LINK, (0.082, 0.195, 0.035)),  # right eye
    (HEAD_LINK, (0.000, 0.180, -0.100)),  # left ear
    (HEAD_LINK, (0.000, 0.180, 0.100)),  # right ear
    (12, (0, 0, 0)),
    (6, (0, 0, 0)),  # shoulders
    (13, (0, 0, 0)),
    (7, (0, 0, 0)),  # elbows
    (14, (0, 0, 0)),
    (8, (0, 0, 0)),  # wrists
    (9, (0, 0, 0)),
    (3, (0, 0, 0)),  # hips
    (10, (0, 0, 0)),
    (4, (0, 0, 0)),  # knees
    (11, (0, 0, 0)),
    (5, (0, 0, 0)),  # ankles
)
HAIR_RADIUS, HAIR_OFFSET = 0.1, (-0.03, 0.2, 0.0)  # a cap over the back and top of the head sphere
OCCLUSION_MARGIN = 0.12  # metres: deeper than any limb's radius, so a joint inside its own limb counts as seen
VISIBLE, HIDDEN = 1.0, 0.5  # keypoint scores: seen by the camera / behind the body but in the frame


@contextlib.contextmanager
def quiet_native_output() -> Iterator[None]:
    """Silence what pybullet's C code prints (build time, URDF warnings) so stdout stays clean."""
    sys.stdout.flush()  # what Python has buffered so far belongs on the real streams
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        try:
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


class DancerRenderer:
    """A headless pybullet session holding the humanoid; use as a context manager."""

    def __init__(self) -> None:
        with quiet_native_output():
            import pybullet
            import pybullet_data

            self.p: Any = pybullet
            self.client: int | None = pybullet.connect(pybullet.DIRECT)
            path = os.path.join(pybullet_data.getDataPath(), "humanoid", "humanoid.urdf")
            self.body = pybullet.loadURDF(
                path,
                [0, 0, 0],
                globalScaling=0.25,
                useFixedBase=True,
                flags=pybullet.URDF_MAINTAIN_LINK_ORDER,
                physicsClientId=self.client,
            )
            # The humanoid's head is a plain sphere; hair makes its front and back (and people) differ.
            hair = pybullet.createVisualShape(pybullet.GEOM_SPHERE, radius=HAIR_RADIUS, physicsClientId=self.client)
            self.hair = pybullet.createMultiBody(0, -1, hair, physicsClientId=self.client)

    def __enter__(self) -> DancerRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect from pybullet (idempotent)."""
        if self.client is not None:
            self.p.disconnect(physicsClientId=self.client)
            self.client = None

    def render(self, identity: Identity, frames: int, size: int, fps: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
        """The identity's video: uint8 frames N×S×S×3 and float32 COCO-17 keypoints N×17×3 (x, y, score)."""
        self.recolor(identity)
        camera = camera_matrices(identity, size)
        background = backdrop_image(identity.backdrop, size, camera["floor_row"])
        light = light_arguments(identity)
        images, keypoints = [], []
        for clip, t in timeline(list(identity.clips), frames, fps, identity.speed, identity.start):
            self.set_pose(load_clip(clip).pose_at(t))
            image, points = self.render_frame(camera, size, light, background)
            images.append(image)
            keypoints.append(points)
        return np.stack(images), np.stack(keypoints).astype(np.float32)

    def recolor(self, identity: Identity) -> None:
        """Paint each link in the identity's colours."""
        for link, color in enumerate(identity.link_colors):
            self.p.changeVisualShape(self.body, link, rgbaColor=[*color, 1.0], physicsClientId=self.client)
        self.p.changeVisualShape(self.hair, -1, rgbaColor=[*identity.hair, 1.0], physicsClientId=self.client)

    def set_pose(self, pose: Pose) -> None:
        """Put the humanoid in ``pose``, its root above the origin."""
        self.p.resetBasePositionAndOrientation(
            self.body, [0, pose.root_height, 0], pose.root_orientation, physicsClientId=self.client
        )
        indices = [index for _, index, _ in JOINTS]
        self.p.resetJointStatesMultiDof(self.body, indices, [list(q) for q in pose.joints], physicsClientId=self.client)
        head = self.p.getLinkState(self.body, HEAD_LINK, computeForwardKinematics=1, physicsClientId=self.client)
        position, orientation = self.p.multiplyTransforms(head[4], head[5], HAIR_OFFSET, [0, 0, 0, 1])
        self.p.resetBasePositionAndOrientation(self.hair, position, orientation, physicsClientId=self.client)

    def render_frame(
        self, camera: dict[str, Any], size: int, light: dict[str, Any], background: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One composited frame and its keypoints."""
        big = size * SUPERSAMPLE
        _, _, rgba, depth, seg = self.p.getCameraImage(
            big,
            big,
            camera["view"],
            camera["projection"],
            renderer=self.p.ER_TINY_RENDERER,
            flags=self.p.ER_SEGMENTATION_MASK_OBJECT_AND_LINKINDEX,
            physicsClientId=self.client,
            **light,
        )
        rgba = np.reshape(rgba, (big, big, 4))
        seg = np.reshape(seg, (big, big))
        depth = np.reshape(depth, (big, big))
        world = self.keypoints_world()
        points, distance = project(world, camera["view_projection"], size)
        scores = self.visibility(points, distance, seg, depth, world, camera["eye"], size)
        image = composite(rgba[..., :3], seg >= 0, background)
        return image, np.concatenate([points, scores[:, None]], axis=1)

    def keypoints_world(self) -> np.ndarray:
        """World positions (17×3) of the COCO-17 keypoints in the current pose."""
        states = self.p.getLinkStates(
            self.body, list(range(15)), computeForwardKinematics=1, physicsClientId=self.client
        )
        points = []
        for link, offset in KEYPOINT_LINKS:
            position, orientation = states[link][4], states[link][5]
            rotation = np.reshape(self.p.getMatrixFromQuaternion(orientation), (3, 3))
            points.append(np.asarray(position) + rotation @ np.asarray(offset))
        return np.asarray(points)

    def visibility(
        self,
        points: np.ndarray,
        distance: np.ndarray,
        seg: np.ndarray,
        depth: np.ndarray,
        world: np.ndarray,
        eye: np.ndarray,
        size: int,
    ) -> np.ndarray:
        """Score per keypoint: 1 if the camera sees it, 0.5 if the body hides it, 0 outside the frame."""
        inside = (points >= 0).all(axis=1) & (points < size).all(axis=1) & (distance > NEAR)
        pixels = np.clip((points * SUPERSAMPLE).astype(int), 0, size * SUPERSAMPLE - 1)
        surface = linear_depth(depth[pixels[:, 1], pixels[:, 0]])
        on_body = seg[pixels[:, 1], pixels[:, 0]] >= 0
        seen = ~on_body | (surface > distance - OCCLUSION_MARGIN)
        seen[:5] &= self.face_towards(world[:5], eye)
        return np.where(inside, np.where(seen, VISIBLE, HIDDEN), 0.0).astype(np.float32)

    def face_towards(self, face: np.ndarray, eye: np.ndarray) -> np.ndarray:
        """Which face points (nose, eyes, ears) are on the side of the head that faces the camera."""
        head = np.asarray(self.p.getLinkState(self.body, HEAD_LINK, physicsClientId=self.client)[0])
        outward = face - head
        outward /= np.linalg.norm(outward, axis=1, keepdims=True)
        to_camera = eye - face
        to_camera /= np.linalg.norm(to_camera, axis=1, keepdims=True)
        return (outward * to_camera).sum(axis=1) > -0.2


def camera_matrices(identity: Identity, size: int) -> dict[str, Any]:
    """View and projection matrices (pybullet's column-major lists and a numpy product) and the floor line."""
    import pybullet

    cam = identity.camera
    eye = np.array([cam.distance * math.cos(cam.yaw), cam.height, cam.distance * math.sin(cam.yaw)])
    target = np.array([0.0, cam.target, 0.0])
    reach = float(np.linalg.norm(eye - target))
    fov = math.degrees(2 * math.atan(STANDING_HEIGHT / cam.fill / 2 / reach))
    view = pybullet.computeViewMatrix(eye.tolist(), target.tolist(), [0, 1, 0])
    projection = pybullet.computeProjectionMatrixFOV(fov, 1.0, NEAR, FAR)
    view_projection = np.reshape(projection, (4, 4)).T @ np.reshape(view, (4, 4)).T
    back = -eye * np.array([1, 0, 1]) / max(cam.distance, 1e-6) * identity.backdrop.wall  # where floor meets wall
    floor_row = float(project(back[None], view_projection, size)[0][0, 1])
    return {
        "view": view,
        "projection": projection,
        "view_projection": view_projection,
        "eye": eye,
        "floor_row": floor_row,
    }


def project(world: np.ndarray, view_projection: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (N×2, continuous: pixel (row i, column j) spans [j, j+1)×[i, i+1)) and view depth."""
    clip = np.c_[world, np.ones(len(world))] @ view_projection.T
    w = clip[:, 3]
    ndc = clip[:, :2] / np.where(np.abs(w) < 1e-9, 1e-9, w)[:, None]
    pixels = np.stack([(ndc[:, 0] + 1) / 2 * size, (1 - ndc[:, 1]) / 2 * size], axis=1)
    return pixels, w


def linear_depth(buffer: np.ndarray) -> np.ndarray:
    """Distance along the view axis from OpenGL's non-linear depth buffer."""
    return FAR * NEAR / (FAR - (FAR - NEAR) * buffer)


def composite(rgb: np.ndarray, mask: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Average SUPERSAMPLE² blocks of the figure and blend it over ``background`` (anti-aliased edges)."""
    figure = block_sum(np.where(mask[..., None], rgb, 0).astype(np.uint16))  # integer sums: cheap at 2×
    covered = block_sum(mask.astype(np.uint16))[..., None]
    image = (figure + (SUPERSAMPLE**2 - covered) * (background * 255)) / SUPERSAMPLE**2
    return (image + 0.5).clip(0, 255).astype(np.uint8)


def block_sum(image: np.ndarray) -> np.ndarray:
    """Sum SUPERSAMPLE×SUPERSAMPLE blocks (strided sums: much faster than a 6-D reshape)."""
    return sum(image[dy::SUPERSAMPLE, dx::SUPERSAMPLE] for dy in range(SUPERSAMPLE) for dx in range(SUPERSAMPLE))


def light_arguments(identity: Identity) -> dict[str, Any]:
    """The identity's light as keyword arguments of ``getCameraImage``."""
    light = identity.light
    return {
        "lightDirection": list(light.direction),
        "lightColor": list(light.color),
        "lightAmbientCoeff": light.ambient,
        "lightDiffuseCoeff": light.diffuse,
        "lightSpecularCoeff": light.specular,
    }
