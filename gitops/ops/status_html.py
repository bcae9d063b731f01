"""The release dashboard as one self-contained HTML page (from gitops/ops/status_data.py's dict).

No network at view time: inline CSS, inline SVG, one small inline filter script, no fonts or
images to fetch; a Content-Security-Policy (``default-src 'none'``, the script allowed by its hash)
makes the browser refuse anything else, so hostile text that slipped through could not load or run.
Every value from the inputs, git, GitHub or Argo CD goes through :func:`esc` (html.escape), and
links only keep http(s) URLs (:func:`href`): a PR's ``html_url`` of ``javascript:...`` is dropped.

Accessibility: one ``<table>`` with ``<caption>`` and ``<th scope>``; every status is a word plus a
symbol (never colour alone); the pipeline is an ordered list. Layout: fits 1280 px without horizontal
scrolling; under 720 px each row becomes a card (cells labelled with their environment); a print
stylesheet drops the controls and keeps rows whole.
"""
from __future__ import annotations

import base64
import hashlib
import html
import urllib.parse

SYMBOLS = {"pending": "▲", "held": "■", "ok": "✓", "bad": "✗", "warn": "⚠", "none": "–", "pr": "⇄"}
GOOD_SYNC, GOOD_HEALTH = {"Synced"}, {"Healthy"}

CSS = """
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--pend:#fff4d6;--pend-line:#bf8700;
--bad:#cf222e;--ok:#1a7f37;--held:#ffebe9;--link:#0969da}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1240px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:0 0 4px}h2{font-size:1.1rem;margin:20px 0 8px}
a{color:var(--link)}code{font:12px/1.3 ui-monospace,SFMono-Regular,Menlo,monospace}
.sub{color:var(--muted);margin:0 0 12px}
.pipeline{display:flex;flex-wrap:wrap;gap:8px;list-style:none;margin:0;padding:0;align-items:stretch}
.stage{flex:1 1 220px;min-width:0;border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--soft)}
.stage.held{background:var(--held);border-color:var(--bad)}
.stage h3{margin:0 0 4px;font-size:1.05rem;display:flex;align-items:center;gap:6px}
.stage p{margin:2px 0;overflow-wrap:anywhere}
.arrow{flex:0 0 24px;align-self:center;color:var(--muted)}
.badge{display:inline-block;border:1px solid currentColor;border-radius:10px;padding:0 6px;font-size:12px;white-space:nowrap}
.badge.pending{color:#7d4e00;background:var(--pend)}.badge.held{color:var(--bad)}.badge.bad{color:var(--bad)}
.badge.ok{color:var(--ok)}.badge.none{color:var(--muted)}
.notes{border:1px solid var(--pend-line);background:var(--pend);border-radius:8px;padding:8px 12px;margin:12px 0}
.notes ul{margin:4px 0;padding-left:20px}.notes li{overflow-wrap:anywhere}
.sources{color:var(--muted)}.sources li{overflow-wrap:anywhere}
.controls{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:8px 0}
.controls input[type=search]{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;min-width:220px}
table{width:100%;border-collapse:collapse;table-layout:fixed}
caption{text-align:left;font-weight:600;padding:4px 0 8px}
th,td{border:1px solid var(--line);padding:6px 8px;vertical-align:top;text-align:left;overflow-wrap:anywhere}
thead th{background:var(--soft)}
thead th:first-child{width:22%}tbody th{font-weight:600}.links{font-weight:400;font-size:13px}
td.pending{background:var(--pend);box-shadow:inset 4px 0 0 var(--pend-line)}
td.absent{color:var(--muted)}
.cell p{margin:0 0 2px}.links a{margin-right:8px;white-space:nowrap}
.legend{color:var(--muted);font-size:13px}
tr[hidden]{display:none}
@media (max-width:720px){
 main{padding:8px}.arrow{display:none}
 table,caption,thead,tbody,tr,th,td{display:block;width:100%}
 thead{position:absolute;left:-9999px}
 tbody tr{border:1px solid var(--line);border-radius:8px;margin:0 0 10px;overflow:hidden}
 tbody th{width:100%;background:var(--soft);border:0;border-bottom:1px solid var(--line)}
 td{border:0;border-bottom:1px solid var(--line)}
 td::before{content:attr(data-env);display:block;font-weight:600;color:var(--muted)}
}
@media print{
 .controls,.skip{display:none}body{font-size:11px}main{max-width:none;padding:0}
 a{color:inherit;text-decoration:none}tr,.stage{break-inside:avoid}
 td.pending{box-shadow:none;border-left:3px solid #000}.stage.held{border:2px solid #000}
}
"""

SCRIPT = """(function(){
var q=document.getElementById('filter'),p=document.getElementById('only-pending'),out=document.getElementById('shown');
var rows=Array.prototype.slice.call(document.querySelectorAll('tbody tr[data-component]'));
function apply(){var t=q.value.trim().toLowerCase(),n=0;
rows.forEach(function(r){var ok=(!t||r.getAttribute('data-component').indexOf(t)>=0)&&(!p.checked||r.getAttribute('data-pending')==='true');
r.hidden=!ok;if(ok){n++;}});out.textContent=n+' of '+rows.length+' components shown';}
q.addEventListener('input',apply);p.addEventListener('change',apply);apply();})();"""

ARROW = ('<svg class="arrow" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">'
         '<path d="M4 12h14m-5-5 5 5-5 5" fill="none" stroke="currentColor" stroke-width="2"/></svg>')


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def href(url) -> str | None:
    """The URL if it is an absolute http(s) URL, else None (no javascript:, data: or relative tricks)."""
    if not isinstance(url, str) or not url:
        return None
    parsed = urllib.parse.urlsplit(url)
    return url if parsed.scheme in ("http", "https") and parsed.netloc else None


def link(url, text: str, label: str | None = None) -> str:
    target = href(url)
    if target is None:
        return ""
    aria = f' aria-label="{esc(label)}"' if label else ""
    return f'<a href="{esc(target)}"{aria} rel="noopener noreferrer">{esc(text)}</a>'


def badge(kind: str, text: str) -> str:
    return f'<span class="badge {kind}">{SYMBOLS.get(kind, "")} {esc(text)}</span>'


def _script_hash() -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()


def render(data: dict, title: str = "Meetinity release status") -> str:
    envs = data["environments"]
    rows = data["components"]
    pending_total = sum(len(r["differs_from_predecessor"]) for r in rows)
    head = (data.get("sources", {}).get("git") or {}).get("head")
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src '{_script_hash()}'; base-uri 'none'; form-action 'none'"
    out = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="sub">{len(rows)} components in {len(envs)} environments, in promotion order '
        f"({esc(' → '.join(envs))}); {pending_total} promotion(s) pending"
        + (f"; built from commit <code>{esc(head[:12])}</code>" if head else "") + ".</p>",
    ]
    missing = _unreached(data)
    if missing:
        out.append(f'<p class="sub">{SYMBOLS["warn"]} Not shown: {esc("; ".join(missing))} '
                   '(see <a href="#sources">Sources</a>).</p>')
    out += _pipeline(data)
    out += _notes(data)
    out += _table(data)
    out += _sources(data)
    out.append(f"<script>{SCRIPT}</script>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def _unreached(data: dict) -> list[str]:
    """What the page could not show, in one line: the reader must not mistake absence for good news."""
    sources = data.get("sources") or {}
    out = []
    if (sources.get("git") or {}).get("state") not in (None, "ok"):
        out.append("last promotions (no git history)")
    gh = (sources.get("github") or {}).get("state")
    if gh and gh != "ok":
        out.append(f"open pull requests (GitHub: {gh})")
    states = sources.get("argocd") or {}
    argo = [f"{env}: {states[env].get('state')}" for env in data["environments"]
            if env in states and states[env].get("state") != "ok"]
    if argo:
        out.append(f"Argo CD sync and health ({', '.join(argo)})")
    return out


def _pipeline(data: dict) -> list[str]:
    out = ['<h2 id="pipeline">Pipeline</h2>', '<ol class="pipeline" aria-labelledby="pipeline">']
    for i, stage in enumerate(data["pipeline"]):
        if i:
            out.append(f'<li class="arrow" aria-hidden="true">{ARROW}</li>')
        hold = stage.get("hold")
        cls = "stage held" if hold else "stage"
        out.append(f'<li class="{cls}" data-env="{esc(stage["name"])}">')
        status = badge("held", "held") if hold else badge("ok", "open")
        out.append(f"<h3>{esc(stage['name'])} {status}</h3>")
        source = f"promotes from {esc(stage['promotes_from'])}" if stage["promotes_from"] else "first stage (images arrive here)"
        out.append(f"<p>{source}; {stage['enabled']} deployed, "
                   + (badge("pending", f"{stage['pending']} pending") if stage["pending"] else "nothing pending")
                   + (f", {stage['pulls']} open PR(s)" if stage.get("pulls") else "") + "</p>")
        if hold:
            who = f" by {esc(hold.get('heldBy'))}" if hold.get("heldBy") else ""
            since = f" since {esc(hold.get('since'))}" if hold.get("since") else ""
            out.append(f"<p><strong>Held</strong>{who}{since}: {esc(hold.get('reason'))}</p>")
        change = stage.get("last_change")
        if change:
            what = "rollback" if change["kind"] == "rollback" else f"promotion from {esc(change.get('from') or '?')}"
            out.append(f"<p>Last {what}: {esc(change.get('when'))} by {esc(change.get('author'))} "
                       f"(<code>{esc(change['commit'][:12])}</code>: {esc(change.get('subject'))})</p>")
        else:
            out.append("<p>Last promotion: none in the history</p>")
        argo = stage.get("argocd") or {}
        if argo:
            state = argo.get("state", "")
            kind = "ok" if state == "ok" else ("none" if state == "not-configured" else "bad")
            out.append(f"<p>Argo CD: {badge(kind, state)}</p>")
        out.append("</li>")
    out.append("</ol>")
    return out


def _notes(data: dict) -> list[str]:
    warnings = data.get("warnings") or []
    if not warnings:
        return []
    out = ['<section class="notes" aria-labelledby="warnings">',
           f'<h2 id="warnings">{SYMBOLS["warn"]} Warnings ({len(warnings)})</h2>', "<ul>"]
    out += [f"<li><strong>{esc(w['source'])}</strong>: {esc(w['message'])}</li>" for w in warnings]
    out += ["</ul>", "</section>"]
    return out


def _table(data: dict) -> list[str]:
    envs = data["environments"]
    rows = data["components"]
    out = ['<h2 id="versions">Versions</h2>',
           '<div class="controls">',
           '<label for="filter">Filter components</label>',
           '<input type="search" id="filter" autocomplete="off" placeholder="name contains…">',
           '<label><input type="checkbox" id="only-pending"> only rows with a pending promotion</label>',
           f'<span id="shown" role="status">{len(rows)} of {len(rows)} components shown</span>',
           "</div>",
           '<table aria-describedby="legend">',
           "<caption>Image version per component (rows) and environment (columns, in promotion order)</caption>",
           "<thead><tr>", '<th scope="col">Component</th>']
    out += [f'<th scope="col">{esc(env)}</th>' for env in envs]
    out += ["</tr></thead>", "<tbody>"]
    for row in rows:
        name = row["component"]
        pending = bool(row["differs_from_predecessor"])
        out.append(f'<tr data-component="{esc(name.lower())}" data-pending="{"true" if pending else "false"}">')
        inventory = link(row.get("links", {}).get("inventory"), "inventory", f"inventory file of {name}")
        out.append(f'<th scope="row">{esc(name)}<br><span class="links">{inventory}</span></th>')
        for env in envs:
            out.append(_cell(row, env))
        out.append("</tr>")
    out += ["</tbody>", "</table>",
            f'<p id="legend" class="legend">{SYMBOLS["pending"]} pending: differs from the environment it promotes '
            f'from (a promotion is waiting). {SYMBOLS["ok"]}/{SYMBOLS["bad"]} Argo CD sync and health. '
            f'{SYMBOLS["pr"]} an open pull request moves this cell. {SYMBOLS["none"]} not deployed there.</p>']
    return out


def _cell(row: dict, env: str) -> str:
    cell = (row.get("cells") or {}).get(env) or {}
    name = row["component"]
    if not cell.get("version"):
        return f'<td class="cell absent" data-env="{esc(env)}">{SYMBOLS["none"]} not deployed</td>'
    classes = "cell pending" if cell.get("pending") else "cell"
    parts = [f'<p><code>{esc(cell.get("tag"))}</code>'
             + (f' <code title="{esc(cell.get("digest"))}">{esc(cell.get("short_digest"))}</code>' if cell.get("digest") else "")
             + "</p>"]
    if cell.get("pending"):
        parts.append(f"<p>{badge('pending', 'pending')} <code>{esc(cell.get('incoming'))}</code> waiting</p>")
    argo = cell.get("argocd")
    if argo and "error" not in argo:
        sync, health = argo.get("sync", "Unknown"), argo.get("health", "Unknown")
        parts.append("<p>" + badge("ok" if sync in GOOD_SYNC else "bad", sync) + " "
                     + badge("ok" if health in GOOD_HEALTH else "bad", health) + "</p>")
        if argo.get("revision"):
            parts.append(f'<p>at <code>{esc(argo["revision"][:12])}</code>'
                         + (f" since {esc(argo['deployed_at'])}" if argo.get("deployed_at") else "") + "</p>")
    elif argo:
        parts.append(f"<p>{badge('bad', argo.get('error', 'error'))}</p>")
    for pull in row.get("pulls") or []:
        if pull.get("to") != env:
            continue
        text = f"#{pull.get('number')} {pull.get('action')}" + (f" from {pull['from']}" if pull.get("from") else "")
        shown = link(pull.get("url"), text, f"pull request {text} for {name} into {env}") or esc(text)
        parts.append(f'<p class="pr">{SYMBOLS["pr"]} open PR {shown}</p>')
    links = cell.get("links") or {}
    anchors = [link(links.get("argocd"), "Argo CD", f"Argo CD application {name} in {env}"),
               link(links.get("grafana"), "Grafana", f"Grafana dashboard of {name} in {env}")]
    if any(anchors):
        parts.append('<p class="links">' + " ".join(a for a in anchors if a) + "</p>")
    return f'<td class="{classes}" data-env="{esc(env)}">' + "".join(parts) + "</td>"


def _sources(data: dict) -> list[str]:
    sources = data.get("sources") or {}
    out = ['<h2 id="sources">Sources</h2>', '<ul class="sources">']
    git = sources.get("git") or {}
    out.append(f"<li>git: {esc(git.get('state'))} — {esc(git.get('message'))}</li>")
    gh = sources.get("github") or {}
    out.append(f"<li>GitHub: {esc(gh.get('state'))} — {esc(gh.get('message'))}</li>")
    states = sources.get("argocd") or {}
    for env, argo in ((env, states[env]) for env in data["environments"] if env in states):  # promotion order, not key order
        server = f" ({esc(argo.get('server'))})" if argo.get("server") else ""
        out.append(f"<li>Argo CD of {esc(env)}{server}: {esc(argo.get('state'))} — {esc(argo.get('message'))}</li>")
    out.append("</ul>")
    return out
