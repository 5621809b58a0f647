"""What makes one synthetic dancer a different "person": clothing, skin, background, camera, light, motion.

An :class:`Identity` is drawn from a numpy random generator (:func:`draw_identity`) and is plain data, so
it is stored in the dataset index beside the video it describes.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from metaframe_video.synthetic.motion import CLIPS, load_clip

RGB = tuple[float, float, float]
BACKDROPS = ("solid", "gradient", "stripes", "checker", "noise")
OUTFITS = ("shirt_trousers", "tee_shorts", "tank_trousers", "dress", "tracksuit")
HAIR_COLORS: tuple[RGB, ...] = (
    (0.05, 0.04, 0.03),
    (0.23, 0.14, 0.08),
    (0.45, 0.3, 0.16),
    (0.85, 0.7, 0.42),
    (0.55, 0.2, 0.08),
    (0.7, 0.7, 0.7),
)
SKIN_TONES: tuple[RGB, ...] = (
    (0.99, 0.87, 0.77),
    (0.95, 0.76, 0.49),
    (0.88, 0.67, 0.41),
    (0.78, 0.53, 0.26),
    (0.55, 0.33, 0.14),
    (0.38, 0.24, 0.15),
)
# Link indices of DeepMimic's humanoid.urdf, grouped by the garment that covers them.
PELVIS, CHEST, HEAD = 0, 1, 2
THIGHS, SHINS, FEET = (3, 9), (4, 10), (5, 11)
UPPER_ARMS, FOREARMS, HANDS = (6, 12), (7, 13), (8, 14)
STANDING_HEIGHT = 1.65  # metres from the soles to the top of the head, in the humanoid's rest pose


@dataclass(frozen=True)
class Camera:
    """Where the camera stands, relative to the dancer (who faces +x at the start of a clip).

    :param yaw: direction of the camera around the vertical axis, radians; 0 sees the dancer's front.
    :param distance: horizontal distance to the dancer, metres.
    :param height: height of the camera above the ground, metres.
    :param target: height of the point the camera looks at, metres.
    :param fill: fraction of the frame height a standing dancer fills (a person crop fills about 80%).
    """

    yaw: float
    distance: float
    height: float
    target: float
    fill: float


@dataclass(frozen=True)
class Light:
    """The renderer's light: direction (towards the light), colour and shading coefficients."""

    direction: tuple[float, float, float]
    color: RGB
    ambient: float
    diffuse: float
    specular: float


@dataclass(frozen=True)
class Backdrop:
    """The scene behind the dancer: a wall pattern and, optionally, a floor.

    :param kind: one of :data:`BACKDROPS`.
    :param colors: the pattern's two colours.
    :param scale: stripe width, checker cell or noise grain, as a fraction of the frame.
    :param angle: orientation of gradients, stripes and checkers, radians.
    :param floor: the floor's colour, or ``None`` for a wall down to the bottom of the frame.
    :param wall: distance of the wall behind the dancer, metres (sets where the floor meets it).
    :param seed: seed of the noise pattern.
    """

    kind: str
    colors: tuple[RGB, RGB]
    scale: float
    angle: float
    floor: RGB | None
    wall: float
    seed: int


@dataclass(frozen=True)
class Identity:
    """One synthetic person and their video: appearance, motion, camera and light.

    :param name: the video and identity id (``train-007``, ``eval-002``).
    :param outfit: one of :data:`OUTFITS` (which body parts the top and bottom cover).
    :param link_colors: RGB of each of the humanoid's 15 links.
    :param hair: RGB of the hair that covers the back and top of the head (so front and back differ).
    :param clips: the one or two motion clips the video cycles through.
    :param speed: playback speed (1 is real time).
    :param start: where the first clip starts, seconds.
    :param camera: where the video is filmed from.
    :param light: how the dancer is lit.
    :param backdrop: what is behind the dancer.
    """

    name: str
    outfit: str
    link_colors: tuple[RGB, ...]
    hair: RGB
    clips: tuple[str, ...]
    speed: float
    start: float
    camera: Camera
    light: Light
    backdrop: Backdrop


def draw_identity(name: str, rng: np.random.Generator, clips: tuple[str, ...] = CLIPS) -> Identity:
    """A random identity; everything random comes from ``rng``."""
    outfit = OUTFITS[rng.integers(len(OUTFITS))]
    colors = dress(outfit, rng)
    hair = jitter(HAIR_COLORS[rng.integers(len(HAIR_COLORS))], rng)
    chosen = tuple(str(c) for c in rng.choice(clips, size=min(len(clips), 1 + rng.integers(2)), replace=False))
    start = float(rng.uniform(0, load_clip(chosen[0]).duration))
    speed = float(rng.uniform(0.8, 1.2))
    backdrop = draw_backdrop(rng, avoid=colors[CHEST])
    return Identity(name, outfit, colors, hair, chosen, speed, start, draw_camera(rng), draw_light(rng), backdrop)


def jitter(color: RGB, rng: np.random.Generator, spread: float = 0.03) -> RGB:
    """``color`` moved a little at random, so two people never share exactly the same shade."""
    r, g, b = np.clip(np.asarray(color) + rng.normal(0, spread, 3), 0, 1).round(4).tolist()
    return (r, g, b)


def random_color(rng: np.random.Generator, saturation: tuple[float, float], value: tuple[float, float]) -> RGB:
    """A colour with uniform hue and saturation/value in the given ranges."""
    rgb = colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(*saturation), rng.uniform(*value))
    return (round(rgb[0], 4), round(rgb[1], 4), round(rgb[2], 4))


def dress(outfit: str, rng: np.random.Generator) -> tuple[RGB, ...]:
    """Colours of the 15 links for ``outfit``: skin, a top, a bottom and shoes."""
    skin = jitter(SKIN_TONES[rng.integers(len(SKIN_TONES))], rng)
    top = random_color(rng, (0.3, 0.95), (0.25, 0.95))
    bottom = top if outfit == "tracksuit" else random_color(rng, (0.1, 0.8), (0.15, 0.8))
    shoes = random_color(rng, (0.0, 0.5), (0.05, 0.95))
    links = [skin] * 15
    for link in (PELVIS, *THIGHS, *SHINS):
        links[link] = bottom
    for link in (CHEST, *UPPER_ARMS, *FOREARMS):
        links[link] = top
    for link in FEET:
        links[link] = shoes
    bare = {
        "tee_shorts": (*FOREARMS, *SHINS),
        "tank_trousers": (*UPPER_ARMS, *FOREARMS),
        "dress": (*UPPER_ARMS, *FOREARMS, *SHINS),
        "shirt_trousers": (),
        "tracksuit": (),
    }[outfit]
    for link in bare:
        links[link] = skin
    if outfit == "dress":
        links[PELVIS] = links[THIGHS[0]] = links[THIGHS[1]] = top
    return tuple(links)


def draw_camera(rng: np.random.Generator) -> Camera:
    """A camera anywhere around the dancer, from knee to above head height."""
    target = float(rng.uniform(0.75, 0.95))
    return Camera(
        float(rng.uniform(0, 2 * math.pi)),
        float(rng.uniform(2.5, 6.0)),
        float(rng.uniform(0.4, 1.9)),
        target,
        float(rng.uniform(0.82, 0.95)),
    )


def draw_light(rng: np.random.Generator) -> Light:
    """A light from above, slightly tinted."""
    azimuth, elevation = rng.uniform(0, 2 * math.pi), rng.uniform(0.3, 1.3)
    direction = (math.cos(azimuth) * math.cos(elevation), math.sin(elevation), math.sin(azimuth) * math.cos(elevation))
    color = tuple(round(float(c), 4) for c in 1 - rng.uniform(0, 0.15, 3))
    return Light(
        tuple(round(d, 4) for d in direction),
        color,
        float(rng.uniform(0.35, 0.65)),  # type: ignore[arg-type]
        float(rng.uniform(0.4, 0.7)),
        float(rng.uniform(0.0, 0.3)),
    )


def draw_backdrop(rng: np.random.Generator, avoid: RGB) -> Backdrop:
    """A background pattern whose main colour is not too close to the dancer's top."""
    kind = BACKDROPS[rng.integers(len(BACKDROPS))]
    for _ in range(20):  # a top the colour of the wall would hide the dancer's body
        first = random_color(rng, (0.0, 0.7), (0.2, 0.95))
        if np.linalg.norm(np.subtract(first, avoid)) > 0.3:
            break
    second = random_color(rng, (0.0, 0.7), (0.2, 0.95))
    floor = random_color(rng, (0.0, 0.5), (0.15, 0.7)) if rng.uniform() < 0.6 else None
    return Backdrop(
        kind,
        (first, second),
        float(rng.uniform(0.04, 0.2)),
        float(rng.uniform(0, math.pi)),
        floor,
        float(rng.uniform(1.0, 4.0)),
        int(rng.integers(2**31)),
    )


def backdrop_image(backdrop: Backdrop, size: int, floor_row: float) -> np.ndarray:
    """The background as float32 size×size×3 in [0, 1]; rows below ``floor_row`` show the floor."""
    v, u = (np.mgrid[0:size, 0:size].astype(np.float32) + 0.5) / size
    along = u * math.cos(backdrop.angle) + v * math.sin(backdrop.angle)
    across = -u * math.sin(backdrop.angle) + v * math.cos(backdrop.angle)
    mix = pattern(backdrop, along, across, size)
    first, second = (np.asarray(c, dtype=np.float32) for c in backdrop.colors)
    image = first * (1 - mix[..., None]) + second * mix[..., None]
    if backdrop.floor is not None:
        rows = np.arange(size, dtype=np.float32)[:, None] + 0.5
        depth = np.clip((rows - floor_row) / size, 0, 1)  # darker towards the camera, like a lit floor
        floor = np.asarray(backdrop.floor, dtype=np.float32) * (1 - 0.35 * depth[..., None])
        image = np.where((rows >= floor_row)[..., None], floor, image)
    return image


def pattern(backdrop: Backdrop, along: np.ndarray, across: np.ndarray, size: int) -> np.ndarray:
    """The mixing weight (0 = first colour, 1 = second) of each pixel for the backdrop's kind."""
    if backdrop.kind == "solid":
        return np.zeros_like(along)
    if backdrop.kind == "gradient":
        return np.clip((along - along.min()) / max(float(np.ptp(along)), 1e-6), 0, 1)
    if backdrop.kind == "stripes":
        return (np.floor(along / backdrop.scale) % 2).astype(np.float32)
    if backdrop.kind == "checker":
        return ((np.floor(along / backdrop.scale) + np.floor(across / backdrop.scale)) % 2).astype(np.float32)
    grid = max(2, round(1 / backdrop.scale))
    noise = np.random.default_rng(backdrop.seed).uniform(0, 1, (grid, grid)).astype(np.float32)
    return np.asarray(Image.fromarray(noise).resize((size, size), Image.BICUBIC)).clip(0, 1)


def look_signature(identity: Identity) -> np.ndarray:
    """A vector of the colours that make a person recognizable (skin, hair, top, bottom, shoes, wall)."""
    colors = identity.link_colors
    parts = (
        colors[HEAD],
        identity.hair,
        colors[CHEST],
        colors[THIGHS[0]],
        colors[FEET[0]],
        identity.backdrop.colors[0],
    )
    return np.concatenate([np.asarray(c) for c in parts])
