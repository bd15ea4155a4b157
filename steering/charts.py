"""Charts drawn on the server as inline SVG (no script, no CDN). Each chart is decorative to assistive
technologies' tables: it carries a title and a short description, and the page puts the same figures in a
data table right after it. Small cells (1 to 4) are not drawn: their bar would give the value away."""

from django.utils.html import escape
from django.utils.safestring import mark_safe

from .figures import MIN_CELL

WIDTH = 640
COLOURS = ("#1f4e79", "#c05600", "#2e7d32", "#6a1b9a", "#00838f")


def _svg(title: str, desc: str, height: int, body: str, ident: str) -> str:
    return mark_safe(
        f'<svg class="chart" role="img" aria-labelledby="{ident}-t {ident}-d" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(desc)}</desc>{body}</svg>'
    )


def bars(ident: str, title: str, items: list) -> str:
    """Horizontal bars: `items` is [(label, count)]."""
    items = list(items)[:20]
    top = max([n for _l, n in items if n >= MIN_CELL] or [1])
    row, label_w = 24, 250
    parts = []
    for i, (label, n) in enumerate(items):
        y = 8 + i * row
        text = escape(str(label)[:40])
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12" fill="#222">{text}</text>')
        if n >= MIN_CELL:
            w = max(1, round((WIDTH - label_w - 60) * n / top))
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="16" fill="{COLOURS[0]}"/>')
            parts.append(f'<text x="{label_w + w + 4}" y="{y + 15}" font-size="12" fill="#222">{n}</text>')
        else:
            parts.append(
                f'<text x="{label_w + 4}" y="{y + 15}" font-size="12" fill="#444">{"moins de 5" if n else "0"}</text>'
            )
    height = 16 + row * max(1, len(items))
    desc = "; ".join(f"{label} : {n if n >= MIN_CELL or not n else 'moins de 5'}" for label, n in items)
    return _svg(title, desc, height, "".join(parts), ident)


def lines(ident: str, title: str, months: list, series: list, unit: str = "") -> str:
    """Lines over months: `series` is [(label, [value or None per month])]; a None breaks the line."""
    height, left, bottom, top_pad = 260, 50, 40, 30
    values = [v for _l, vs in series for v in vs if v is not None]
    top = max(values or [1]) or 1
    plot_w, plot_h = WIDTH - left - 20, height - bottom - top_pad
    step = plot_w / max(1, len(months) - 1)

    def xy(i, v):
        return left + i * step, top_pad + plot_h - plot_h * v / top

    parts = [
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{WIDTH - 20}" y2="{top_pad + plot_h}" stroke="#444"/>',
        f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end" font-size="11" fill="#222">{top}{unit}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" font-size="11" fill="#222">0</text>',
    ]
    for i, month in enumerate(months):
        if len(months) <= 12 or i % 3 == 0:
            x, _y = xy(i, 0)
            parts.append(
                f'<text x="{x:.0f}" y="{height - 22}" text-anchor="middle" font-size="10" '
                f'fill="#222">{month[2:]}</text>'
            )
    for k, (label, vs) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        path, pen = [], "M"
        for i, v in enumerate(vs):
            if v is None:
                pen = "M"
                continue
            x, y = xy(i, v)
            path.append(f"{pen}{x:.1f},{y:.1f}")
            pen = "L"
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<rect x="{left + k * 190}" y="{height - 12}" width="10" height="10" fill="{colour}"/>')
        parts.append(
            f'<text x="{left + k * 190 + 14}" y="{height - 3}" font-size="11" '
            f'fill="#222">{escape(str(label)[:28])}</text>'
        )
    desc = f"{len(series)} courbes sur {len(months)} mois ; valeurs dans le tableau qui suit."
    return _svg(title, desc, height, "".join(parts), ident)


def gauge(ident: str, title: str, achieved_ratio: float, target_pct) -> str:
    """A bar filled to the achieved share, with a mark at the target."""
    height, x0, w = 34, 10, WIDTH - 120
    filled = max(0, min(1, achieved_ratio)) * w
    target_x = x0 + w * float(target_pct) / 100
    colour = "#2e7d32" if achieved_ratio * 100 >= float(target_pct) else "#b71c1c"
    body = (
        f'<rect x="{x0}" y="8" width="{w}" height="16" fill="#e0e0e0" stroke="#666"/>'
        f'<rect x="{x0}" y="8" width="{filled:.1f}" height="16" fill="{colour}"/>'
        f'<line x1="{target_x:.1f}" y1="2" x2="{target_x:.1f}" y2="30" stroke="#000" stroke-width="2"/>'
        f'<text x="{x0 + w + 8}" y="21" font-size="12" fill="#222">{achieved_ratio * 100:.1f} %</text>'
    )
    desc = f"Réalisé {achieved_ratio * 100:.1f} % pour un objectif de {target_pct} %."
    return _svg(title, desc, height, body, ident)
