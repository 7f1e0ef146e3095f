"""Draws a Grafana dashboard as one self-contained HTML page from Prometheus's answers, for
tests/monitoring/test_dashboard.py (Grafana itself is not packaged for Debian 12).

The panels sit where their gridPos puts them on Grafana's grid (24 columns, rows of 30 px with
8 px between), in the colours of Grafana's dark theme: time series panels as line charts with a
y axis in the panel's unit, a time axis and a legend below; stat panels as one big number per
query (the last value, coloured by the panel's thresholds or Grafana's default ones, green below
80 and red from it) over a sparkline. Inline SVG and CSS only: no script, no font, no image, no
request leaves the page. Text widths are estimated (DejaVu Sans is the font Chromium finds here).
Standard library only.
"""
import html
import math
import re
import time

PAGE_WIDTH = 1400
PAD = 16  # around the grid
GAP = 8  # between panels (Grafana's GRID_CELL_VMARGIN)
CELL = 30  # a grid row (Grafana's GRID_CELL_HEIGHT)
HEADER = 88  # the title bar and the variables above the grid
FONT = "'DejaVu Sans', Inter, Helvetica, Arial, sans-serif"
EM = 0.62  # a character's estimated advance, in ems (generous: text must not overflow)

BACKGROUND, PANEL, BORDER = "#111217", "#181b1f", "#2c3235"
TEXT, MUTED, GRID = "#ccccdc", "#8e8e9e", "#2a2d33"
# Grafana's classic palette, in its order, and the colours thresholds name.
SERIES_COLOURS = ["#73BF69", "#F2CC0C", "#8AB8FF", "#FF780A", "#F2495C", "#5794F2", "#B877D9", "#705DA0",
                  "#37872D", "#FADE2A", "#447EBC", "#C15C17", "#890F02", "#0A437C", "#6D1F62", "#584477"]
NAMED_COLOURS = {"green": "#73BF69", "red": "#F2495C", "orange": "#FF9830", "yellow": "#FADE2A",
                 "blue": "#5794F2", "purple": "#B877D9", "text": TEXT}
# Grafana's thresholds when a panel sets none.
DEFAULT_THRESHOLDS = [{"color": "green", "value": None}, {"color": "red", "value": 80}]

DURATIONS = [(1e-6, "µs"), (1e-3, "ms"), (1, "s"), (60, "min"), (3600, "h"), (86400, "d"), (604800, "w"),
             (31536000, "y")]
BYTES = [(1, "B"), (1024, "KiB"), (1024 ** 2, "MiB"), (1024 ** 3, "GiB"), (1024 ** 4, "TiB")]
SHORT = [(1, ""), (1e3, " K"), (1e6, " Mil"), (1e9, " Bil")]


def flat_panels(dashboard):
    """Every panel, those inside rows too (a collapsed row keeps its panels in its own list)."""
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []) if panel.get("type") == "row" else [])
    return out


def legend_name(legend_format, metric):
    """A series' name as Grafana writes it: legendFormat with {{label}} replaced, or the series."""
    if legend_format and legend_format != "__auto":
        return re.sub(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}", lambda m: metric.get(m.group(1), ""), legend_format)
    labels = ", ".join('%s="%s"' % kv for kv in sorted(metric.items()) if kv[0] != "__name__")
    return metric.get("__name__", "") + ("{%s}" % labels if labels else "")


def text_width(text, size):
    return len(text) * size * EM


def esc(text):
    return html.escape(str(text), quote=True)


# Units -----------------------------------------------------------------------------------------

def base_unit(unit):
    """(factor, kind): values times factor are in the kind's base (days become seconds)."""
    return {"d": (86400, "duration"), "h": (3600, "duration"), "m": (60, "duration"), "s": (1, "duration"),
            "ms": (1e-3, "duration"), "bytes": (1, "bytes"), "percentunit": (100, "percent"),
            "percent": (1, "percent"), "reqps": (1, "reqps"), "ops": (1, "ops")}.get(unit, (1, "short"))


def scale(kind, biggest):
    """(divisor, suffix) in which values up to `biggest` (in the kind's base) read well."""
    if kind == "percent":
        return 1, "%"
    steps = {"duration": DURATIONS, "bytes": BYTES}.get(kind, SHORT)
    divisor, suffix = (1, "s") if kind == "duration" else steps[0]
    for d, s in steps:
        if biggest >= d:
            divisor, suffix = d, s
    if kind in ("duration", "bytes"):
        return divisor, " " + suffix
    return divisor, suffix + {"reqps": " req/s", "ops": " ops/s"}.get(kind, "")


def decimals_for(step):
    """Enough decimals to write every multiple of `step` exactly (0.25: two)."""
    for digits in range(5):
        if abs(round(step * 10 ** digits) - step * 10 ** digits) < 1e-6:
            return digits
    return 4


def format_value(value, unit):
    """One value, as a stat panel shows it: about three significant digits in a fitting scale."""
    factor, kind = base_unit(unit)
    v = value * factor
    divisor, suffix = scale(kind, abs(v))
    shown = v / divisor
    digits = 0 if abs(shown) >= 100 or shown == 0 else 1 if abs(shown) >= 10 else 2
    return ("%.*f" % (digits, shown)) + suffix


def nice_step(raw):
    if raw <= 0:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def axis(lo, hi, unit, ticks=4):
    """The y axis: (bottom, top, [(value, label)]), in the data's own units."""
    factor, kind = base_unit(unit)
    lo_b, hi_b = min(0.0, lo * factor), max(0.0, hi * factor)
    if hi_b - lo_b <= 0:  # all zero: an axis of 0 to 1
        hi_b = lo_b + 1
    divisor, suffix = scale(kind, max(abs(lo_b), abs(hi_b)))
    step = nice_step((hi_b - lo_b) / divisor / ticks)
    bottom = math.floor(lo_b / divisor / step) * step
    top = math.ceil(hi_b / divisor / step) * step
    if top <= bottom:
        top = bottom + step
    digits = decimals_for(step)
    marks, v = [], bottom
    while v <= top + step / 1000:
        marks.append((v * divisor / factor, "%.*f%s" % (digits, v, suffix)))
        v += step
    return bottom * divisor / factor, top * divisor / factor, marks


def time_marks(start, end, width):
    """Time axis marks: a round interval so that labels sit at least 90 px apart."""
    span = max(1, end - start)
    for every in (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600):
        if span / every * 90 <= width:
            break
    first = math.ceil(start / every) * every
    return [(t, time.strftime("%H:%M:%S" if every < 60 else "%H:%M", time.localtime(t)))
            for t in range(int(first), int(end) + 1, every)]


def threshold_colour(value, panel, ref=None, name=None):
    """The colour of the threshold step `value` reaches: the panel's thresholds, those an
    override gives its query (byFrameRefID) or series (byName), else Grafana's default ones."""
    field = panel.get("fieldConfig", {})
    steps = field.get("defaults", {}).get("thresholds", {}).get("steps")
    for override in field.get("overrides", []):
        matcher = override.get("matcher", {})
        if (matcher.get("id"), matcher.get("options")) in (("byFrameRefID", ref), ("byName", name)):
            for prop in override.get("properties", []):
                if prop.get("id") == "thresholds":
                    steps = prop.get("value", {}).get("steps") or steps
    steps = steps or DEFAULT_THRESHOLDS
    colour = steps[0]["color"]
    for step in steps[1:]:
        if step.get("value") is not None and value >= step["value"]:
            colour = step["color"]
    return NAMED_COLOURS.get(colour, colour)


# Panels ----------------------------------------------------------------------------------------

def runs(points, step):
    """Points split where a value is missing or not finite (a line has a gap there)."""
    out, current, last = [], [], None
    for t, v in points:
        if not math.isfinite(v) or (last is not None and t - last > 1.5 * step):
            if current:
                out.append(current)
            current = []
        if math.isfinite(v):
            current.append((t, v))
        last = t
    if current:
        out.append(current)
    return out


def legend_rows(names, width, size=12):
    """Legend items wrapped into rows that fit `width`: [[(index, name, x)]]."""
    rows, row, x = [], [], 0.0
    for i, name in enumerate(names):
        item = 22 + text_width(name, size)
        if row and x + item > width:
            rows.append(row)
            row, x = [], 0.0
        row.append((i, name, x))
        x += item + 18
    if row:
        rows.append(row)
    return rows


def panel_title(panel, w):
    title = panel.get("title", "")
    limit = int((w - 24) / (14 * EM))
    if len(title) > limit:
        title = title[:max(1, limit - 1)] + "…"
    return '<text x="10" y="22" class="title">%s</text>' % esc(title)


def no_data(w, h):
    return '<text x="%.1f" y="%.1f" class="nodata" text-anchor="middle">No data</text>' % (w / 2, h / 2 + 10)


def timeseries(panel, series, window, w, h):
    start, end, step = window
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
    parts = [panel_title(panel, w)]
    drawn = [(name, runs(points, step)) for name, points, *_ in series]
    values = [v for _, rs in drawn for r in rs for _, v in r]
    if not values:
        return "".join(parts) + no_data(w, h)
    rows = legend_rows([name for name, _ in drawn], w - 20)
    legend_h = 18 * len(rows) + 6
    lo, hi, marks = axis(min(values), max(values), unit)
    label_w = max(text_width(label, 11) for _, label in marks)
    left, right = 10 + label_w + 8, w - 16
    top, bottom = 40, h - legend_h - 24
    sx = lambda t: left + (t - start) / max(1, end - start) * (right - left)
    sy = lambda v: bottom - (v - lo) / (hi - lo) * (bottom - top)
    for value, label in marks:
        y = sy(value)
        parts.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>' % (left, right, y, y))
        parts.append('<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%s</text>' % (left - 6, y + 4, esc(label)))
    for t, label in time_marks(start, end, right - left):
        x = sx(t)
        if x - text_width(label, 11) / 2 < left - 4 or x + text_width(label, 11) / 2 > w - 4:
            continue  # a label that would run into the y axis's or off the panel
        parts.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>' % (x, x, top, bottom))
        parts.append('<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>' % (x, bottom + 16, label))
    for i, (name, rs) in enumerate(drawn):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        for r in rs:
            if len(r) == 1:
                parts.append('<circle cx="%.1f" cy="%.1f" r="2" fill="%s"/>' % (sx(r[0][0]), sy(r[0][1]), colour))
                continue
            path = " ".join("%.1f,%.1f" % (sx(t), sy(v)) for t, v in r)
            parts.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="1.6" '
                         'stroke-linejoin="round"/>' % (path, colour))
    for n, row in enumerate(rows):
        y = h - legend_h + 4 + n * 18
        for i, name, x in row:
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            parts.append('<rect x="%.1f" y="%.1f" width="14" height="4" rx="2" fill="%s"/>' % (10 + x, y + 5, colour))
            parts.append('<text x="%.1f" y="%.1f" class="legend">%s</text>' % (10 + x + 20, y + 11, esc(name)))
    return "".join(parts)


def stat(panel, series, window, w, h):
    start, end, step = window
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
    parts = [panel_title(panel, w)]
    cells = [(name, [p for p in points if math.isfinite(p[1])], rest[0] if rest else None)
             for name, points, *rest in series]
    if not cells:
        return "".join(parts) + no_data(w, h)
    top, inner_h = 36, h - 36 - 8
    cell_w = (w - 16) / len(cells)
    for i, (name, points, ref) in enumerate(cells):
        x0 = 8 + i * cell_w
        last = points[-1][1] if points else None
        colour = threshold_colour(last, panel, ref, name) if last is not None else MUTED
        shown = format_value(last, unit) if last is not None else "No data"
        # The sparkline behind the number (Grafana's graph mode "area").
        if len(points) > 1:
            lo, hi = min(v for _, v in points), max(v for _, v in points)
            hi = hi if hi > lo else lo + 1
            sx = lambda t: x0 + 4 + (t - start) / max(1, end - start) * (cell_w - 8)
            sy = lambda v: top + inner_h - 4 - (v - lo) / (hi - lo) * inner_h * 0.38
            line = " ".join("%.1f,%.1f" % (sx(t), sy(v)) for t, v in points)
            base = top + inner_h - 4
            parts.append('<polygon points="%.1f,%.1f %s %.1f,%.1f" fill="%s" fill-opacity="0.12"/>'
                         % (sx(points[0][0]), base, line, sx(points[-1][0]), base, colour))
            parts.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="1.2" stroke-opacity="0.7"/>'
                         % (line, colour))
        size = min(40, inner_h * 0.3, (cell_w - 16) / max(1, len(shown) * EM))
        cx = x0 + cell_w / 2
        parts.append('<text x="%.1f" y="%.1f" class="statname" text-anchor="middle">%s</text>'
                     % (cx, top + inner_h * 0.2, esc(name)))
        parts.append('<text x="%.1f" y="%.1f" class="statvalue" text-anchor="middle" fill="%s" '
                     'font-size="%.1f">%s</text>' % (cx, top + inner_h * 0.2 + 12 + size, colour, size, esc(shown)))
    return "".join(parts)


def row_header(panel, w):
    marker = "▸" if panel.get("collapsed") else "▾"
    return '<text x="2" y="21" class="row">%s %s</text>' % (marker, esc(panel.get("title", "")))


def render(dashboard, results, window, note=""):
    """The page: `results` maps a panel's id to [(series name, [(t, v)], refId)] in target order;
    `window` is (start, end, step) in seconds; `note` a line for the header's right side."""
    width = PAGE_WIDTH - 2 * PAD
    column = (width + GAP) / 24
    shown = dashboard.get("panels", [])  # a collapsed row's panels stay inside it, out of sight
    bottom = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in shown), default=0)
    height = HEADER + PAD + bottom * (CELL + GAP)
    body = []
    for panel in shown:
        g = panel["gridPos"]
        x, y = PAD + g["x"] * column, HEADER + g["y"] * (CELL + GAP)
        w, h = g["w"] * column - GAP, g["h"] * CELL + (g["h"] - 1) * GAP
        kind = panel.get("type")
        if kind == "row":
            content, cls = row_header(panel, w), "row"
        elif kind in ("stat", "gauge", "bargauge"):
            content, cls = stat(panel, results.get(panel.get("id"), []), window, w, h), "panel"
        else:
            content, cls = timeseries(panel, results.get(panel.get("id"), []), window, w, h), "panel"
        body.append('<div class="%s" style="left:%.1fpx;top:%.1fpx;width:%.1fpx;height:%.1fpx">'
                    '<svg width="%.1f" height="%.1f" viewBox="0 0 %.1f %.1f" xmlns="http://www.w3.org/2000/svg">'
                    '%s</svg></div>' % (cls, x, y, w, h, w, h, w, h, content))
    start, end, step = window
    span = end - start
    span_text = "Last %d seconds" % span if span < 120 else "Last %d minutes" % round(span / 60)
    variables = []
    for v in dashboard.get("templating", {}).get("list", []):
        value = "Prometheus" if v.get("type") == "datasource" else v.get("current", {}).get("text", "")
        variables.append('<span class="var"><span class="varname">%s</span><span class="varvalue">%s</span></span>'
                         % (esc(v.get("label") or v.get("name")), esc(value)))
    header = ('<div class="top"><span class="crumb">Dashboards / </span><span class="name">%s</span>'
              '<span class="right"><span class="pill">%s</span><span class="pill">step %ds</span></span></div>'
              '<div class="vars">%s<span class="note">%s</span></div>'
              % (esc(dashboard.get("title", "")), esc(span_text), step, "".join(variables), esc(note)))
    return """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%(title)s</title>
<style>
html, body { margin: 0; background: %(bg)s; color: %(text)s; font-family: %(font)s; }
.page { position: relative; width: %(pw)dpx; height: %(ph)dpx; }
.top { height: 44px; display: flex; align-items: center; padding: 0 %(pad)dpx; border-bottom: 1px solid %(border)s; }
.crumb { color: %(muted)s; font-size: 16px; white-space: pre; }
.name { font-size: 16px; font-weight: bold; }
.right { margin-left: auto; display: flex; gap: 8px; }
.pill, .var { border: 1px solid %(border)s; border-radius: 2px; font-size: 13px; padding: 4px 10px;
  background: %(panel)s; }
.vars { height: 36px; display: flex; align-items: center; gap: 8px; padding: 0 %(pad)dpx; margin-top: 4px; }
.var { padding: 0; display: inline-flex; }
.varname { padding: 4px 10px; background: #22252b; border-right: 1px solid %(border)s; color: #6e9fff; }
.varvalue { padding: 4px 10px; }
.note { margin-left: auto; color: %(muted)s; font-size: 12px; }
.panel, .row { position: absolute; }
.panel { background: %(panel)s; border: 1px solid %(border)s; border-radius: 2px; box-sizing: border-box;
  overflow: hidden; }
.panel svg { position: absolute; left: -1px; top: -1px; }
svg text { font-family: %(font)s; }
.title { fill: %(text)s; font-size: 14px; font-weight: 500; }
.row { fill: %(text)s; font-size: 16px; font-weight: bold; }
.tick { fill: %(muted)s; font-size: 11px; }
.legend { fill: %(text)s; font-size: 12px; }
.grid { stroke: %(grid)s; stroke-width: 1; }
.nodata { fill: %(muted)s; font-size: 16px; }
.statname { fill: %(text)s; font-size: 13px; }
.statvalue { font-weight: 500; }
</style></head>
<body><div class="page">%(header)s%(body)s</div></body></html>
""" % {"title": esc(dashboard.get("title", "")), "bg": BACKGROUND, "text": TEXT, "font": FONT, "pw": PAGE_WIDTH,
       "ph": height, "pad": PAD, "border": BORDER, "muted": MUTED, "panel": PANEL, "grid": GRID,
       "header": header, "body": "".join(body)}
