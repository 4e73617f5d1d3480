#!/usr/bin/env bash
# Regenerates the sample library in files/ from the Markdown sources in this folder.
# Needs python3 and LibreOffice (apt: libreoffice-writer-nogui). Usage: library-src/build.sh
#
# Each source becomes an HTML page first (library-src/*.md -> HTML), then LibreOffice turns
# some of them into PDF or DOCX, so that the demo library has every format:
#   PDF:  comunicacao-nao-violenta, luto-e-perda
#   DOCX: estresse-no-trabalho, understanding-anxiety
#   HTML: sono-e-descanso, grief-and-loss
set -euo pipefail
cd "$(dirname "$0")"

declare -A FORMAT=(
  [comunicacao-nao-violenta]=pdf
  [luto-e-perda]=pdf
  [estresse-no-trabalho]=docx
  [understanding-anxiety]=docx
  [sono-e-descanso]=html
  [grief-and-loss]=html
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for src in *.md; do
  name=$(basename "$src" .md)
  fmt=${FORMAT[$name]:-pdf}
  python3 - "$src" "$work/$name.html" <<'PY'
import html, re, sys

src, out = sys.argv[1], sys.argv[2]
text = open(src, encoding="utf-8").read()
lang = "en" if re.search(r"\b(the|and)\b", text) else "pt-BR"
title, body = None, []
for block in re.split(r"\n\s*\n", text.strip()):
    block = " ".join(line.strip() for line in block.splitlines())
    m = re.match(r"(#+)\s+(.*)", block)
    if m:
        level = min(len(m.group(1)), 3)
        title = title or m.group(2)
        body.append(f"<h{level}>{html.escape(m.group(2))}</h{level}>")
    else:
        body.append(f"<p>{html.escape(block)}</p>")
with open(out, "w", encoding="utf-8") as f:
    f.write(f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title or '')}</title>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
PY
  rm -f "../files/$name".pdf "../files/$name".docx "../files/$name".html
  case "$fmt" in
    html) cp "$work/$name.html" "../files/$name.html" ;;
    pdf) soffice --headless "-env:UserInstallation=file://$work/profile" \
           --infilter="HTML (StarWriter)" --convert-to pdf:writer_pdf_Export \
           --outdir ../files "$work/$name.html" >/dev/null ;;
    docx) soffice --headless "-env:UserInstallation=file://$work/profile" \
           --infilter="HTML (StarWriter)" --convert-to 'docx:MS Word 2007 XML' \
           --outdir ../files "$work/$name.html" >/dev/null ;;
  esac
  echo "files/$name.$fmt"
done
