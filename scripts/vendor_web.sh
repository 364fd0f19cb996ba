#!/usr/bin/env bash
# Vendor the dashboard's JavaScript libraries from their npm packages (run by hand when a
# version changes; the files are committed, so installing Headrace needs no npm, no build
# and no network). Versions and licences are recorded in VENDORED.md beside the files.
#   scripts/vendor_web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WEB=src/headrace/web/static/vendor
AXE=tests/acceptance/web/vendor   # axe-core is for the accessibility test only: not shipped
UPLOT=1.6.32 DAGRE=3.1.4 HTM=3.1.1 AXE_CORE=4.14.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unpack() {  # unpack NAME@VERSION into $work/NAME-dir
  local spec=$1 dir=$work/$2
  mkdir -p "$dir"
  (cd "$work" && npm pack --silent "$spec" >"$dir.name")
  tar xzf "$work/$(cat "$dir.name")" -C "$dir"
}
unpack "uplot@$UPLOT" uplot
unpack "@dagrejs/dagre@$DAGRE" dagre
unpack "htm@$HTM" htm
unpack "axe-core@$AXE_CORE" axe
mkdir -p "$WEB" "$AXE"
cp "$work/uplot/package/dist/uPlot.esm.js" "$WEB/uplot.esm.js"
cp "$work/uplot/package/dist/uPlot.min.css" "$WEB/uplot.min.css"
cp "$work/uplot/package/LICENSE" "$WEB/LICENSE.uplot"
cp "$work/dagre/package/dist/dagre.esm.js" "$WEB/dagre.esm.js"
cp "$work/dagre/package/LICENSE" "$WEB/LICENSE.dagre"
# htm's standalone build bundles Preact (MIT) with htm (Apache-2.0): one ES module.
cp "$work/htm/package/preact/standalone.module.js" "$WEB/preact-htm.module.js"
cp "$work/htm/package/LICENSE" "$WEB/LICENSE.htm"
cp "$work/axe/package/axe.min.js" "$AXE/axe.min.js"
cp "$work/axe/package/LICENSE" "$AXE/LICENSE.axe-core"
cat >"$WEB/VENDORED.md" <<MD
# Vendored libraries of the dashboard

Copied from their npm packages by \`scripts/vendor_web.sh\`; not edited.

| file | npm package | version | licence |
| --- | --- | --- | --- |
| uplot.esm.js, uplot.min.css | uplot | $UPLOT | MIT (LICENSE.uplot) |
| dagre.esm.js | @dagrejs/dagre | $DAGRE | MIT (LICENSE.dagre) |
| preact-htm.module.js | htm (its preact/standalone build: htm + Preact 10) | $HTM | Apache-2.0 (htm, LICENSE.htm); Preact is MIT |
| (tests/acceptance/web/vendor/axe.min.js, tests only) | axe-core | $AXE_CORE | MPL-2.0 (LICENSE.axe-core there) |
MD
echo "vendored into $WEB and $AXE"
