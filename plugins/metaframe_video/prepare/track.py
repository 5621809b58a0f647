"""Following one chosen person through a shot with a one-person pose estimator (MediaPipe Pose).

MediaPipe finds a single person per image, so this module points it where to look:

- **Finding everyone** (first frame of a shot, then every few frames): run the single-image detector on
  overlapping square tiles of the frame; each person found is greyed out and the tiles are searched again,
  until nobody new turns up.
- **Choosing**: ``largest`` takes the person with the biggest box; a number N takes the N-th person counted
  from the left (0 = leftmost) on the first frame where at least N+1 people are found.
- **Following**: MediaPipe's video mode follows the chosen person inside a square *window* around them, which
  slides with them a little each frame; everyone else is greyed out in it. Each result must be plausibly the
  same person (it overlaps the last box, or lies within a distance, in body sizes, that grows with the time
  since the person was last seen). The other people are followed too, with the single-image detector around
  where each was last seen, only so that they stay greyed out and are never taken for the chosen one.
  Where two people overlap, a pose that overlaps the other's last box more, or whose torso colours are
  closer to the other's (:func:`appearance`), counts as not found.
- **Losing and finding again**: a frame where the person is not found gives None. Then the single-image
  detector searches around where they were last seen and the whole frame (every frame at first, then every
  ``LOOK_EVERY`` frames); someone who is none of the others and plausibly close enough is taken to be the
  chosen person coming back, after a jump or an occlusion.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from metaframe_video.prepare.boxes import (
    Person,
    area,
    centre,
    crop_square,
    grow,
    intersection,
    iou,
    opencv,
    overlap,
    paint_boxes,
    size,
    square_around,
)
from metaframe_video.prepare.sources import Frame

LARGEST = "largest"
MAX_PEOPLE = 5  # people looked for per frame; more would cost a detector run each, every frame
LOOK_EVERY = 5  # once the chosen person has been missing this many frames, look for them every this many
WINDOW_MARGIN = 0.5  # the window is the person's size plus this much of it on each side
WINDOW_STEP = 0.1  # how far (in window sides) the window may slide or grow per frame; video mode copes


class Detector(Protocol):
    """Anything that finds the most prominent person in an RGB image."""

    def detect(self, image: np.ndarray) -> Person | None:
        """The person's pose in the image's pixels, or None."""


class Tracker(Detector, Protocol):
    """A detector that follows one person across successive images (MediaPipe's video mode)."""

    def reset(self) -> None:
        """Forget the person followed."""


@dataclass
class Track:
    """Where one person was last seen (``seen_at`` is a source frame index)."""

    box: np.ndarray
    seen_at: int
    window: np.ndarray | None = None  # the chosen person's view for the tracker; None = look afresh
    sizes: deque[float] = field(default_factory=lambda: deque(maxlen=30))
    look: np.ndarray | None = None  # colours of their torso, averaged over the recent sightings

    @classmethod
    def starting(cls, person: Person, index: int, look: np.ndarray | None = None) -> Track:
        """A new track at this sighting."""
        track = cls(person.box, index)
        track.see(person.box, index, look)
        return track

    def see(self, box: np.ndarray, index: int, look: np.ndarray | None = None) -> None:
        """Record a sighting (and what the person looked like, when known)."""
        self.box, self.seen_at = box, index
        self.sizes.append(size(box))
        if look is not None:  # a running average follows slow changes: light, turning round
            self.look = look if self.look is None else 0.8 * self.look + 0.2 * look

    @property
    def scale(self) -> float:
        """The person's usual size lately: a crouch or a tuck shrinks the box, not the person."""
        return float(np.percentile(self.sizes, 80)) if self.sizes else size(self.box)


def choose(people: list[Person], choice: str | int) -> Person | None:
    """The chosen person: the largest box, or the N-th from the left; None if there are too few."""
    if choice == LARGEST:
        return max(people, key=lambda person: area(person.box)) if people else None
    by_x = sorted(people, key=lambda person: centre(person.box)[0])
    return by_x[int(choice)] if int(choice) < len(by_x) else None


def plausible(person: Person, track: Track, index: int, reach: float = 0.5) -> bool:
    """Whether ``person`` at source frame ``index`` can be the one of ``track``.

    Either the boxes overlap well, or the person is near enough and of a similar size: within ``reach``
    body sizes, plus a tenth of a body size per frame since the track was last seen.
    """
    gap = max(index - track.seen_at, 1)
    if iou(person.box, track.box) >= 0.3:
        return True
    scale = size(person.box) / track.scale
    low, high = (0.4, 2.0) if gap <= 2 else (0.25, 3.0)
    distance = float(np.linalg.norm(centre(person.box) - centre(track.box)))
    return low <= scale <= high and distance <= (reach + 0.1 * gap) * track.scale


def appearance(frame: np.ndarray, person: Person) -> np.ndarray | None:
    """The colours of a person's torso (between shoulders and hips): a normalized 8×4 hue-saturation histogram.

    None when the torso is not clearly seen. Clothes tell two people apart where their boxes cannot:
    when they overlap, or when one comes back after being lost.
    """
    cv2 = opencv()
    torso = person.keypoints[[5, 6, 11, 12]]
    if (torso[:, 2] < 0.5).any():
        return None
    (x0, y0), (x1, y1) = torso[:, :2].min(axis=0), torso[:, :2].max(axis=0)
    dx, dy = (x1 - x0) * 0.2, (y1 - y0) * 0.2  # the middle of the torso: no background, no arms
    left, top = max(int(x0 + dx), 0), max(int(y0 + dy), 0)
    patch = frame[top : max(int(y1 - dy), 0), left : max(int(x1 - dx), 0)]
    if patch.shape[0] < 3 or patch.shape[1] < 3:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2HSV)
    histogram = cv2.calcHist([hsv], [0, 1], None, [8, 4], [0, 180, 0, 256])
    return (histogram / max(float(histogram.sum()), 1.0)).astype(np.float32)


def look_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance between two appearances: 0 = same colours."""
    cv2 = opencv()
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


def distinct(people: list[Person], known: list[np.ndarray]) -> list[Person]:
    """``people`` without repeats (the same person in two overlapping tiles: the first is kept) or ``known``."""
    kept: list[Person] = []
    for person in people:
        if all(overlap(person.box, box) < 0.5 for box in known + [p.box for p in kept]):
            kept.append(person)
    return kept


def inside(box: np.ndarray, square: np.ndarray) -> float:
    """How far a box lies inside a square, in box sizes (negative where it sticks out)."""
    return float(np.min(np.concatenate([box[:2] - square[:2], square[2:] - box[2:]]))) / size(box)


def slide(window: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Move and resize the window a bounded step towards the square around ``box``."""
    side = window[2] - window[0]
    goal = square_around(box, WINDOW_MARGIN)
    shift = np.clip(centre(goal) - centre(window), -WINDOW_STEP * side, WINDOW_STEP * side)
    new_side = side * float(np.clip((goal[2] - goal[0]) / side, 1 - WINDOW_STEP, 1 + WINDOW_STEP))
    x, y = centre(window) + shift
    return np.array([x - new_side / 2, y - new_side / 2, x + new_side / 2, y + new_side / 2])


@dataclass
class Follower:
    """Follows the chosen person through one shot; call :meth:`step` on its frames in order.

    :param detector: a single-image pose detector (searching, bystanders).
    :param tracker: a video-mode pose tracker for the chosen person.
    :param choice: ``"largest"`` or the index of the person counted from the left (0 = leftmost).
    :param discover_every: look for newcomers every this many processed frames (and whenever the chosen
        person is missing: every frame at first, then every ``LOOK_EVERY`` frames).
    """

    detector: Detector
    tracker: Tracker
    choice: str | int = LARGEST
    discover_every: int = 10
    forget_after: int = 45  # source frames after which a lost bystander is forgotten
    target: Track | None = None
    others: list[Track] = field(default_factory=list)
    most_seen: int = 0  # the most people found at once, for the message when --person N finds too few
    _steps: int = 0
    _misses: int = 0  # processed frames since the chosen person was last found

    def follow(self, frame: Frame) -> Person | None:
        """:meth:`step` on a :class:`~metaframe_video.prepare.sources.Frame`."""
        return self.step(frame.index, frame.image)

    def step(self, index: int, frame: np.ndarray) -> Person | None:
        """The chosen person in this frame (source frame ``index``), or None where they are not found."""
        self._steps += 1
        if self.target is None:
            return self._acquire(index, frame)
        person = self._track(self.target, index, frame)
        if person is None and self._misses >= LOOK_EVERY and self._misses % LOOK_EVERY:
            self._misses += 1  # long lost: search only now and then, it costs several detector runs
            return None
        if person is None:
            person = self._follow(self.target, index, frame, [other.box for other in self.others])
        self._follow_others(index, frame)
        if person is None or self._steps % self.discover_every == 0:
            person = self._discover(index, frame, person)
        self._misses = 0 if person is not None else self._misses + 1
        return person

    def _acquire(self, index: int, frame: np.ndarray) -> Person | None:
        """Find everyone and pick the chosen person; None until the frame has enough people."""
        people = find_everyone(self.detector, frame, [])
        self.most_seen = max(self.most_seen, len(people))
        chosen = choose(people, self.choice)
        if chosen is None:
            return None
        self.target = Track(chosen.box, index)
        self.others = [Track.starting(p, index, appearance(frame, p)) for p in people if p is not chosen]
        self._seen(self.target, chosen, index, frame)
        return chosen

    def _seen(self, track: Track, person: Person, index: int, frame: np.ndarray) -> None:
        """Record where the chosen person is; a fresh sighting gives the tracker a fresh window."""
        if track.window is None:
            self.tracker.reset()
            track.window = square_around(person.box, WINDOW_MARGIN)
        else:
            track.window = slide(track.window, person.box)
        track.see(person.box, index, appearance(frame, person))

    def _track(self, track: Track, index: int, frame: np.ndarray) -> Person | None:
        """The chosen person by the video-mode tracker in their window, or None (then the window is dropped)."""
        if track.window is None:
            return None
        crop, origin = crop_square(frame, track.window)
        paint_boxes(crop, origin, [other.box for other in self.others], keep=track.box)
        found = self.tracker.detect(crop)
        found = None if found is None else found.shifted(origin[0], origin[1])
        if found is None or not plausible(found, track, index, reach=1.0) or self._someone_else(found, track, frame):
            track.window = None
            return None
        self._seen(track, found, index, frame)
        return found

    def _follow(self, track: Track, index: int, frame: np.ndarray, hidden: list[np.ndarray]) -> Person | None:
        """Look for ``track``'s person around where they were last seen, with the ``hidden`` people greyed out."""
        gap = index - track.seen_at
        region = square_around(track.box, margin=min(0.5 + 0.05 * gap, 3.0))
        for _ in range(2):  # a second look with the wrong person hidden too
            found = search(self.detector, frame, region, hidden, keep=track.box)
            matches = [p for p in found if plausible(p, track, index) and not self._someone_else(p, track, frame)]
            if matches:
                best = min(matches, key=lambda p: np.linalg.norm(centre(p.box) - centre(track.box)))
                if track is self.target:
                    self._seen(track, best, index, frame)
                else:
                    track.see(best.box, index, appearance(frame, best))
                return best
            if not found:
                return None
            hidden = hidden + [p.box for p in found]
        return None

    def _someone_else(self, person: Person, track: Track, frame: np.ndarray) -> bool:
        """Whether ``person`` is more likely another track's than ``track``'s: when two people overlap, a
        one-person detector may report either. More likely: overlapping the other's last box more, or,
        near them, looking more like them. Then the safe answer is "not found"."""
        assert self.target is not None
        others = [t for t in [self.target, *self.others] if t is not track]
        mine = iou(person.box, track.box)
        if any(iou(person.box, t.box) > mine for t in others):
            return True
        look = appearance(frame, person) if track.look is not None else None
        if look is None:
            return False
        own = look_distance(look, track.look)  # type: ignore[arg-type]
        return any(
            t.look is not None and look_distance(look, t.look) < own and intersection(person.box, grow(t.box, 0.5)) > 0
            for t in others
        )

    def _follow_others(self, index: int, frame: np.ndarray) -> None:
        """Update the bystanders (so they stay hidden from the chosen person's search); forget stale ones."""
        assert self.target is not None
        near = square_around(self.target.box, margin=1.0)
        for other in self.others:
            # Bystanders far from the chosen person cannot be mistaken for them: update those less often.
            if self._steps % 3 and iou(square_around(other.box, margin=1.0), near) == 0:
                continue
            hidden = [self.target.box] + [o.box for o in self.others if o is not other]
            self._follow(other, index, frame, hidden)
        self.others = [o for o in self.others if index - o.seen_at <= self.forget_after]

    def _discover(self, index: int, frame: np.ndarray, person: Person | None) -> Person | None:
        """Look for newcomers: a bystander seen again, the lost chosen person back, or someone new.

        Whoever could be two people is given to neither: losing the chosen person for a few frames is
        better than following someone else.
        """
        target = self.target
        assert target is not None
        known = [target.box] + [other.box for other in self.others]
        for newcomer in find_everyone(self.detector, frame, known):
            others = [o for o in self.others if plausible(newcomer, o, index)]
            is_target = person is None and plausible(newcomer, target, index)
            if is_target and not others and not self._someone_else(newcomer, target, frame):
                self._seen(target, newcomer, index, frame)
                person = newcomer
            elif len(others) == 1 and not is_target:
                others[0].see(newcomer.box, index, appearance(frame, newcomer))
            elif not others and not is_target and self._may_be_bystander(newcomer):
                self.others.append(Track.starting(newcomer, index, appearance(frame, newcomer)))
        return person

    def _may_be_bystander(self, newcomer: Person) -> bool:
        """Whether a newcomer should be followed as a bystander.

        Not inside the chosen person's window: a "person" found right beside someone being followed is
        more often a fragment of them or a phantom (a sun flare taken for a face) than a real newcomer, and
        greying it out could hide the chosen person from the tracker.
        """
        assert self.target is not None
        window = self.target.window
        return len(self.others) < MAX_PEOPLE - 1 and (window is None or overlap(newcomer.box, window) < 0.5)


def tiles(width: int, height: int, region: np.ndarray | None = None) -> list[np.ndarray]:
    """Overlapping squares (side = the image's shorter side, half overlap) covering ``region`` of the image.

    The detector shrinks its input to 224 pixels, so a whole wide frame can hide a small person; squares
    of the short side keep people about twice as large.
    """
    side = float(min(width, height))
    x0, y0, x1, y1 = (
        (0.0, 0.0, float(width), float(height))
        if region is None
        else np.clip(region, 0, [width, height, width, height])
    )
    starts = []
    for low, high in ((x0, x1), (y0, y1)):
        count = int(np.ceil(max(high - low - side, 0.0) / (side / 2))) + 1
        starts.append(np.linspace(low, max(high - side, low), count))
    return [np.array([x, y, x + side, y + side]) for y in starts[1] for x in starts[0]]


def search(
    detector: Detector, frame: np.ndarray, region: np.ndarray, hidden: list[np.ndarray], keep: np.ndarray | None
) -> list[Person]:
    """Everyone the detector finds in the square ``region`` of the frame (one per tile), in frame pixels.

    :param hidden: boxes greyed out first (except where they overlap ``keep``, the person looked for).
    """
    height, width = frame.shape[:2]
    squares = [region] if region[2] - region[0] <= min(width, height) else tiles(width, height, region)
    found = []
    for square in squares:
        crop, origin = crop_square(frame, square)
        paint_boxes(crop, origin, hidden, keep)
        person = detector.detect(crop)
        if person is not None:
            person = person.shifted(origin[0], origin[1])
            found.append((inside(person.box, square), person))
    # Someone seen whole in one tile and cut by the edge of another: keep the whole view.
    return distinct([person for _, person in sorted(found, key=lambda pair: -pair[0])], [])


def find_everyone(detector: Detector, frame: np.ndarray, known: list[np.ndarray]) -> list[Person]:
    """Everyone in the frame but the ``known`` boxes: search tiles, grey out who was found, search again."""
    side = float(max(frame.shape[:2]))
    whole = np.array([0.0, 0.0, side, side])  # a square over the whole frame, which search() tiles
    found: list[Person] = []
    while len(found) + len(known) < MAX_PEOPLE:
        hidden = known + [p.box for p in found]
        new = distinct(search(detector, frame, whole, hidden, None), hidden)
        if not new:
            break
        found += new
    return found
