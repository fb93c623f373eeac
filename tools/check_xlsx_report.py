#!/usr/bin/env python3
"""Checks a report workbook written by `trellis report … --format xlsx` with openpyxl, an
implementation independent of ours, against the same report's CSV and JSON.

usage: check_xlsx_report.py REPORT.xlsx REPORT.json [SHEET=REPORT.csv ...]
- the first sheet is About, holding the period (when the JSON has one), the head seq and hash;
- every other sheet has a bold header row frozen at A2;
- each SHEET=CSV pair: the sheet's header is the CSV's, every cell equals the CSV's value,
  typed: counts are ints, rates floats with a 0.0% format, days datetimes with yyyy-mm-dd.
Prints "ok" or the first difference, exit 1.
"""
import csv
import datetime
import json
import sys

import openpyxl

RATES = {"rate", "attendance_rate", "participation_rate", "coverage", "reviewer_coverage", "outcome_sharing_rate"}
DATES = {"period_from", "period_to", "on", "window_from", "due_by"}


def fail(message):
    print(message)
    sys.exit(1)


def main():
    book_path, json_path, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
    wb = openpyxl.load_workbook(book_path)
    report = json.load(open(json_path, encoding="utf-8"))
    if wb.sheetnames[0] != "About":
        fail(f"first sheet is {wb.sheetnames[0]}")
    about = {row[0]: row[1] for row in wb["About"].iter_rows(values_only=True)}
    provenance = report.get("provenance", {})
    if about.get("Head hash") != provenance.get("head_hash"):
        fail(f"About head hash {about.get('Head hash')} != {provenance.get('head_hash')}")
    if about.get("Log position (head seq)") != str(provenance.get("head_seq")):
        fail(f"About head seq {about.get('Log position (head seq)')}")
    if "from" in report:
        last = (datetime.date.fromisoformat(report["to"]) - datetime.timedelta(days=1)).isoformat()
        if about.get("Period") != f"{report['from']} to {last} (inclusive)":
            fail(f"About period {about.get('Period')}")
    for ws in wb.worksheets[1:]:
        if ws.freeze_panes != "A2":
            fail(f"{ws.title}: freeze_panes {ws.freeze_panes}")
        if ws.max_column and not all(c.font.b for c in ws[1]):
            fail(f"{ws.title}: header not bold")
    for pair in pairs:
        name, csv_path = pair.split("=", 1)
        ws = wb[name]
        with open(csv_path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        sheet = [list(r) for r in ws.iter_rows()]
        header = [c.value for c in sheet[0]] if sheet else []
        if header != rows[0]:
            fail(f"{name}: header {header} != {rows[0]}")
        if len(sheet) != len(rows):
            fail(f"{name}: {len(sheet) - 1} rows, the CSV has {len(rows) - 1}")
        for r, (cells, values) in enumerate(zip(sheet[1:], rows[1:]), start=2):
            for cell, column, text in zip(cells, rows[0], values):
                check(name, r, cell, column, text)
    print("ok")


def check(sheet, r, cell, column, text):
    where = f"{sheet}!{cell.coordinate} ({column})"
    value = cell.value
    if text == "":
        if value is not None:
            fail(f"{where}: {value!r} where the CSV is empty")
        return
    if column in DATES:
        if not isinstance(value, datetime.datetime) or value.date().isoformat() != text or cell.number_format != "yyyy-mm-dd":
            fail(f"{where}: {value!r} ({cell.number_format}) is not the date {text}")
    elif column in RATES:
        if not isinstance(value, float | int) or abs(value - float(text)) > 1e-12 or cell.number_format != "0.0%":
            fail(f"{where}: {value!r} ({cell.number_format}) is not the rate {text}")
    elif column == "member":
        if value is not (text == "true"):
            fail(f"{where}: {value!r} is not the boolean {text}")
    elif text.lstrip("-").isdigit():
        if not isinstance(value, int) or value != int(text):
            fail(f"{where}: {value!r} is not the integer {text}")
    else:
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is not None and column in {"betweenness", "clustering"}:
            if not isinstance(value, float | int) or abs(value - number) > 1e-12:
                fail(f"{where}: {value!r} is not the number {text}")
        elif value != text and not (text.startswith("'") and value == text[1:]):
            fail(f"{where}: {value!r} != {text!r}")


if __name__ == "__main__":
    main()
