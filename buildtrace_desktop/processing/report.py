"""The comparison report: report.json (eval/REPORT_FORMAT.md), changes.csv, report.pdf and the PNGs.

Everything is written to temporary names and renamed at the end, so a failed or interrupted run never
leaves a partial report.json behind.
"""
from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path

import pymupdf

from buildtrace_desktop.processing.overlay import png_image_parts
from buildtrace_desktop.processing.types import Change, PairResult, SheetInfo, SheetMatch
from buildtrace_desktop.storage import atomic_copy, atomic_path, atomic_write_text

FORMAT = "buildtrace-report/1"


def build_report(
    old_set: dict,
    new_set: dict,
    old_infos: list[SheetInfo],
    new_infos: list[SheetInfo],
    matches: list[SheetMatch],
    results: dict[tuple[int | None, int | None], PairResult],
    summary: dict | None = None,
) -> dict:
    """The report dict. Sheets in new-set order, removed sheets after them."""
    old_by = {s.set_index: s for s in old_infos}
    new_by = {s.set_index: s for s in new_infos}
    sheets = []
    for m in sorted(matches, key=lambda m: (m.new_index is None, m.new_index or 0, m.old_index or 0)):
        info = new_by[m.new_index] if m.new_index is not None else old_by[m.old_index]
        old_info = old_by.get(m.old_index) if m.old_index is not None else None
        is_new = m.new_index is not None
        number = (m.new_number if is_new else m.old_number) or info.sheet_number
        title = (m.new_title if is_new else m.old_title) or info.title
        entry = {
            "sheet_number": number,
            "title": title,
            "status": m.status,
            "old_page": m.old_index,
            "new_page": m.new_index,
            "page_size": [round(info.page_size[0], 2), round(info.page_size[1], 2)],
            "match_method": m.method,
            "match_confidence": round(m.confidence, 2),
            "renumbered": m.renumbered,
            "old_sheet_number": (m.old_number or old_info.sheet_number) if old_info else None,
            "read_number": info.sheet_number,  # as read on the page itself, before matching
            "number_source": info.number_source,
        }
        notes = list(m.notes)
        result = results.get((m.old_index, m.new_index))
        if m.status == "matched" and result is not None:
            entry["alignment"] = {"matrix": result.alignment.matrix, "confidence": result.alignment.confidence,
                                  "method": result.alignment.method}
            entry["dpi"] = result.dpi
            entry["text_source"] = result.text_source
            entry["warnings"] = notes + list(result.warnings)
            entry["overlay_png"] = Path(result.overlay_png).name if result.overlay_png else None
            entry["side_by_side_png"] = Path(result.side_by_side_png).name if result.side_by_side_png else None
            entry["changes"] = [change_entry(i, c) for i, c in enumerate(result.changes, start=1)]
            entry.update(cloud_lists(result))
        elif m.status == "matched":
            entry["changes"] = []
            entry["warnings"] = notes + ["not compared (the comparison of this pair failed)"]
        else:
            entry["changes"] = []
            if notes:
                entry["warnings"] = notes
        sheets.append(entry)
    report = {"format": FORMAT, "old": old_set, "new": new_set, "sheets": sheets, "totals": totals(sheets)}
    if summary:
        report["summary"] = summary
    return report


def change_entry(change_id: int, c: Change) -> dict:
    entry = {"id": change_id, "kind": c.kind, "what": c.what, "bbox": [round(v, 2) for v in c.bbox],
             "area": round(c.area, 2), "text_removed": c.text_removed, "text_added": c.text_added,
             "cloud": c.cloud, "group": c.group}
    if c.tag is not None:
        entry["tag"] = c.tag
    return entry


def cloud_lists(result: PairResult) -> dict:
    """A sheet's revision clouds with the changes inside them, the changes outside every cloud (what the
    designer did not flag), the clouds with nothing changed inside, and the review groups."""
    cloud_changes = {c["change"] for c in result.clouds}
    outside = [i for i, c in enumerate(result.changes, start=1) if c.cloud is None and i not in cloud_changes]
    return {"clouds": result.clouds, "changes_outside_clouds": outside,
            "empty_clouds": [c["id"] for c in result.clouds if not c["changes"]],
            "groups": result.groups}


def totals(sheets: list[dict]) -> dict:
    out = {"matched": 0, "added": 0, "removed": 0, "renumbered": 0, "changes": 0,
           "changes_added": 0, "changes_removed": 0, "changes_modified": 0, "warnings": 0}
    for s in sheets:
        out[s["status"]] += 1
        out["renumbered"] += int(bool(s.get("renumbered")))
        out["warnings"] += len(s.get("warnings") or [])
        for c in s.get("changes", []):
            out["changes"] += 1
            out[f"changes_{c['kind']}"] += 1
    return out


def sheet_label(sheet: dict) -> str:
    page = sheet["new_page"] if sheet["new_page"] is not None else sheet["old_page"]
    return sheet.get("sheet_number") or f"page {page + 1}"


def changes_csv(report: dict, review: dict[tuple[int, int], tuple[str, str]] | None = None) -> str:
    """One row per change. `review` maps (sheet row, change id) to (status, note) when known."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["sheet", "title", "change", "kind", "x0", "y0", "x1", "y1", "text_removed", "text_added",
                     "review_status", "note"])
    for si, sheet in enumerate(report["sheets"]):
        for c in sheet.get("changes", []):
            status, note = (review or {}).get((si, c["id"]), (c.get("review_status", "open"), c.get("note", "")))
            writer.writerow([sheet_label(sheet), sheet.get("title") or "", c["id"], c["kind"], *c["bbox"],
                             " ".join(c["text_removed"]), " ".join(c["text_added"]), status, note or ""])
    return buf.getvalue()


def write_outputs(out_dir: str | Path, report: dict, results: dict | None = None, image_dir: str | Path | None = None) -> None:
    """Write report.json, changes.csv, the pair PNGs and report.pdf into `out_dir`, report.json last.

    PNG paths in `results` (PairResult.overlay_png / side_by_side_png) are copied in unless they already
    live in `out_dir`; `image_dir` is where to find them by the names in the report otherwise.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for sheet in report["sheets"]:
        for key in ("overlay_png", "side_by_side_png"):
            name = sheet.get(key)
            if not name:
                continue
            source = _find_png(name, sheet, key, results, image_dir)
            if source and source.resolve() != (out / name).resolve():
                atomic_copy(source, out / name)
    atomic_write_text(out / "changes.csv", changes_csv(report))
    write_pdf(out / "report.pdf", report, out)
    atomic_write_text(out / "report.json", json.dumps(report, indent=1, ensure_ascii=False))


def _find_png(name: str, sheet: dict, key: str, results: dict | None, image_dir) -> Path | None:
    result = (results or {}).get((sheet["old_page"], sheet["new_page"]))
    if result is not None and getattr(result, key):  # the report's keys are PairResult's attributes
        return Path(getattr(result, key))
    if image_dir is not None and (Path(image_dir) / name).exists():
        return Path(image_dir) / name
    return None


# --- PDF -----------------------------------------------------------------------------------------------

PAGE_W, PAGE_H = 1224.0, 792.0  # 17 x 11 in landscape
MARGIN = 36.0


def write_pdf(path: Path, report: dict, image_dir: Path) -> None:
    doc = pymupdf.open()
    _cover_page(doc, report)
    if (report.get("summary") or {}).get("text"):
        _summary_pages(doc, report["summary"])
    for sheet in report["sheets"]:
        if sheet.get("changes") or sheet.get("warnings"):
            _sheet_page(doc, sheet, image_dir)
    with atomic_path(path) as tmp:
        doc.save(tmp, garbage=3, deflate=True)
    doc.close()


def _text(shape: pymupdf.Shape, x: float, y: float, text: str, size: float = 9, bold: bool = False,
          color: tuple = (0, 0, 0)) -> None:
    """Text on a page's Shape: one Shape per page, committed once (a Shape per line cost 1 ms each)."""
    shape.insert_text((x, y), text, fontsize=size, fontname="hebo" if bold else "helv", color=color)


def _cover_page(doc: pymupdf.Document, report: dict) -> None:
    page = doc.new_page(width=PAGE_W, height=PAGE_H).new_shape()
    t = report["totals"]
    _text(page, MARGIN, MARGIN + 14, "BuildTrace comparison report", 20, bold=True)
    _text(page, MARGIN, MARGIN + 38, f"Old: {Path(report['old']['path']).name}  ({report['old']['pages']} pages)", 10)
    _text(page, MARGIN, MARGIN + 52, f"New: {Path(report['new']['path']).name}  ({report['new']['pages']} pages)", 10)
    _text(page, MARGIN, MARGIN + 70,
          f"{t['matched']} matched, {t['added']} added, {t['removed']} removed, {t['renumbered']} renumbered sheets; "
          f"{t['changes']} changes ({t['changes_added']} added, {t['changes_removed']} removed, "
          f"{t['changes_modified']} modified)", 10)
    y = MARGIN + 100
    widest = max((pymupdf.get_text_length(sheet_label(sheet), fontname="helv", fontsize=8.5)
                  for sheet in report["sheets"]), default=0.0)
    title_x = MARGIN + min(220.0, max(90.0, widest + 10))  # room for ISO 19650 numbers
    cols = [MARGIN, title_x, MARGIN + 520, MARGIN + 610, MARGIN + 680, MARGIN + 760]
    for x, head in zip(cols, ["Sheet", "Title", "Status", "Changes", "Align.", "Notes"], strict=True):
        _text(page, x, y, head, 9, bold=True)
    y += 14
    for sheet in report["sheets"]:
        if y > PAGE_H - MARGIN:
            page.commit()
            page = doc.new_page(width=PAGE_W, height=PAGE_H).new_shape()
            y = MARGIN + 14
        conf = sheet.get("alignment", {}).get("confidence")
        notes = "; ".join(sheet.get("warnings") or [])
        if sheet.get("renumbered"):
            notes = f"renumbered from {sheet.get('old_sheet_number')}. " + notes
        row = [sheet_label(sheet), (sheet.get("title") or "")[:80], sheet["status"], str(len(sheet.get("changes", []))),
               f"{conf:.2f}" if conf is not None else "", notes[:90]]
        for x, right, cell in zip(cols, [*cols[1:], PAGE_W - MARGIN], row, strict=True):
            # a long number (ISO 19650) gets a smaller size instead of running into the next column
            width = pymupdf.get_text_length(cell, fontname="helv", fontsize=8.5)
            _text(page, x, y, cell, max(5.0, min(8.5, 8.5 * (right - x - 6) / max(width, 1e-6))))
        y += 12
    page.commit()


SUMMARY_LINES_PER_PAGE = 70


def _summary_pages(doc: pymupdf.Document, summary: dict) -> None:
    """The summary on pages of its own, as HTML: the built-in PDF fonts cannot show quotes and arrows
    ("167" -> "175"), and a long summary must flow onto more pages instead of being cut off."""
    lines = summary["text"].splitlines()
    title = f"Change summary ({summary.get('source', 'offline')})"
    for start in range(0, max(1, len(lines)), SUMMARY_LINES_PER_PAGE):
        page = doc.new_page(width=PAGE_W, height=PAGE_H)
        chunk = lines[start:start + SUMMARY_LINES_PER_PAGE]
        body = "".join(f"<p>{html.escape(line) or '&nbsp;'}</p>" for line in chunk)
        heading = f"<h3>{html.escape(title)}</h3>" if start == 0 else ""
        page.insert_htmlbox(pymupdf.Rect(MARGIN, MARGIN, PAGE_W - MARGIN, PAGE_H - MARGIN),
                            heading + body, css="* {font-family: sans-serif; font-size: 9pt;} p {margin: 0;}")


def _sheet_page(doc: pymupdf.Document, sheet: dict, image_dir: Path) -> None:
    page = doc.new_page(width=PAGE_W, height=PAGE_H)
    heading = page.new_shape()
    _text(heading, MARGIN, MARGIN + 12, f"{sheet_label(sheet)}  {sheet.get('title') or ''}", 14, bold=True)
    heading.commit()
    list_x = PAGE_W - MARGIN - 300
    image_rect = pymupdf.Rect(MARGIN, MARGIN + 24, list_x - 12, PAGE_H - MARGIN)
    png = image_dir / sheet["overlay_png"] if sheet.get("overlay_png") else None
    if png and png.exists():
        insert_png(page, image_rect, png)
    y = MARGIN + 34
    for w in sheet.get("warnings") or []:
        page.insert_textbox(pymupdf.Rect(list_x, y - 9, PAGE_W - MARGIN, y + 30), "Warning: " + w, fontsize=8,
                            color=(0.8, 0.2, 0))
        y += 34
    changes = {c["id"]: c for c in sheet.get("changes", [])}
    groups = sheet.get("groups") or [{"label": "", "changes": list(changes)}]
    outside = len(sheet.get("changes_outside_clouds") or [])
    if sheet.get("clouds"):
        summary = f"{len(sheet['clouds'])} revision cloud(s); {outside} change(s) outside any cloud"
        page.insert_textbox(pymupdf.Rect(list_x, y - 9, PAGE_W - MARGIN, y + 20), summary, fontsize=8.5,
                            fontname="hebo")
        y += 16
    for group in groups:
        if y > PAGE_H - MARGIN:
            break
        if group["label"] and len(group["changes"]) > 1 or group.get("cloud"):
            page.insert_textbox(pymupdf.Rect(list_x, y - 9, PAGE_W - MARGIN, y + 20), group["label"][:90],
                                fontsize=8, fontname="hebo")
            y += 12
        for change_id in group["changes"]:
            if y > PAGE_H - MARGIN:
                break
            line = _change_line(changes[change_id])
            page.insert_textbox(pymupdf.Rect(list_x + 6, y - 9, PAGE_W - MARGIN, y + 20), line[:160], fontsize=8)
            y += 22 if len(line) > 60 else 12


def _change_line(c: dict) -> str:
    text = ""
    if c["text_removed"]:
        text += " - " + " ".join(c["text_removed"])
    if c["text_added"]:
        text += " + " + " ".join(c["text_added"])
    x0, y0 = c["bbox"][0] / 72, c["bbox"][1] / 72
    what = c.get("what") or c["kind"]
    if c.get("tag"):
        what += f" (tag {c['tag']})"
    return f"{c['id']}. {what} at ({x0:.1f} in, {y0:.1f} in){text}"


def insert_png(page: pymupdf.Page, rect: pymupdf.Rect, png: Path) -> None:
    """Show a PNG in `rect`, keeping its proportions. The PNG's compressed rows become the PDF image's
    stream as they are (FlateDecode with PNG predictors reads them): decoding and compressing a sheet-sized
    picture again cost MuPDF most of the report's time."""
    data = png.read_bytes()
    parts = png_image_parts(data)
    if parts is None:  # a PNG the PDF cannot take raw: let MuPDF convert it
        page.insert_image(rect, stream=data, keep_proportion=True)
        return
    doc = page.parent
    w, h, colors = parts["width"], parts["height"], parts["colors"]
    if parts["indexed"]:
        entries = len(parts["palette"]) // 3
        space = f"[/Indexed /DeviceRGB {entries - 1} <{parts['palette'].hex()}>]"
    else:
        space = "/DeviceGray" if colors == 1 else "/DeviceRGB"
    xref = doc.get_new_xref()
    doc.update_object(xref, f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace {space} "
                            "/BitsPerComponent 8 >>")
    doc.update_stream(xref, parts["data"], compress=False)
    # Set after the stream: storing an uncompressed stream drops the filter keys.
    doc.xref_set_key(xref, "Filter", "/FlateDecode")
    doc.xref_set_key(xref, "DecodeParms", f"<< /Predictor 15 /Colors {colors} /BitsPerComponent 8 /Columns {w} >>")
    page.insert_image(rect, xref=xref, keep_proportion=True)
