"""Rebuild examples/survey.xlsx (sheets ho, thanh_vien) from the two example CSV files.

Run from the repository root: python examples/build_workbook.py
"""

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent


def main() -> None:
    households = pd.read_csv(HERE / "households.csv", dtype=str, keep_default_na=False,
                             encoding="utf-8-sig")  # fmt: skip
    members = pd.read_csv(HERE / "members.csv", dtype=str, keep_default_na=False,
                          encoding="utf-8-sig")  # fmt: skip
    with pd.ExcelWriter(HERE / "survey.xlsx", engine="openpyxl") as writer:
        for frame, sheet in ((households, "ho"), (members, "thanh_vien")):
            frame.replace("", None).to_excel(writer, sheet_name=sheet, index=False)


if __name__ == "__main__":
    main()
