"""Draws the pictures of docs/cost.md by running that page's code.

Runs every python block of the page, in order, in one namespace, in an empty temporary
folder (as a reader would), then copies the `cost_*.svg` files it wrote into docs/models/.
Run from the repository root:  python docs/models/cost_pictures.py
"""
import os
import pathlib
import re
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "cost.md"


def main():
    sys.path.insert(0, str(ROOT))
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            scope = {"__name__": "__main__"}
            for block in blocks:
                exec(compile(block, str(PAGE), "exec"), scope)
            for picture in sorted(pathlib.Path(folder).glob("cost_*.svg")):
                shutil.copy(picture, ROOT / "docs" / "models" / picture.name)
                print("docs/models/" + picture.name)
        finally:
            os.chdir(here)


if __name__ == "__main__":
    main()
