"""The head of the HTML report: Content-Security-Policy and inline style sheet.

The policy allows inline styles and ``data:`` images and nothing else: no script, no
fetch, no frame and no form target, so a log value that slipped past escaping still
could not run code or call out. The report needs no network access to display.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE_SHEET = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
  max-width: 1600px; padding: 1rem 2rem; color: #212529; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #dee2e6; padding-bottom: 0.2rem;
  margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-top: 1.6rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.88rem;
  width: 100%; }
th, td { border: 1px solid #dee2e6; padding: 0.25rem 0.45rem; text-align: left;
  vertical-align: top; overflow-wrap: break-word; }
th { background: #f1f3f5; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace;
  font-size: 0.85em; overflow-wrap: break-word; }
.muted { color: #6c757d; }
.banner { border: 2px solid #e67700; background: #fff4e6; padding: 0.6rem 0.9rem;
  margin: 1rem 0; font-weight: 600; }
.severity { font-weight: 700; border-radius: 3px; padding: 0 0.35rem; }
.severity-critical { background: #c92a2a; color: #fff; }
.severity-high { color: #c92a2a; }
.severity-medium { color: #e67700; }
.severity-low { color: #1971c2; }
.approved-yes { color: #2b8a3e; font-weight: 700; }
.chart, .scroll { overflow-x: auto; }
svg.timeline { max-width: 100%; height: auto; font-size: 11px; }
svg.timeline .tick-label, svg.timeline .axis-start { fill: #495057; }
svg.timeline .marker-label { fill: #212529; font-weight: 600; }
svg.timeline .legend-label { fill: #212529; }
.warnings li { color: #a61e4d; }
dl.facts { display: grid; grid-template-columns: max-content auto;
  gap: 0.15rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
ul.values { margin: 0; padding-left: 1.1rem; }
"""
