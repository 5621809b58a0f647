"""Without the ``pose`` extra (no OpenCV), the video plugin still loads and ``prepare`` says what to install."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Runs in a fresh interpreter where importing cv2 fails, as on a machine with the README's plain install.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.modules["cv2"] = None  # any `import cv2` now raises ImportError
    from metaframe.testing import run_cli
    listed = run_cli(["plugins", "--json"])
    prepare = run_cli(["prepare", sys.argv[1], "--out", sys.argv[2]])
    print(json.dumps({"plugins": json.loads(listed.stdout)["plugins"], "code": prepare.exit_code,
                      "stderr": prepare.stderr}))
    """
)


def test_every_plugin_loads_and_prepare_names_the_extra(tmp_path):
    video, out = tmp_path / "clip.mp4", tmp_path / "dataset"
    video.write_bytes(b"not read: the missing extra is reported first")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(video), str(out)], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {plugin["name"]: plugin["status"] for plugin in result["plugins"]}["video"] == "ok"
    assert all(plugin["status"] == "ok" for plugin in result["plugins"]), result["plugins"]
    assert result["code"] == 2
    assert 'pip install "metaframe[pose]"' in result["stderr"] and len(result["stderr"].strip().splitlines()) == 1
    assert not out.exists(), "nothing is written"
