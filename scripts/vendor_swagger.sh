#!/usr/bin/env bash
# Vendor Swagger UI's assets into the package, so /docs works without the internet.
#   scripts/vendor_swagger.sh            the version pinned below
#   scripts/vendor_swagger.sh 5.36.0     another version (then update VERSION here)
# Fetches swagger-ui-dist from the npm registry with `npm pack`, keeps the three files
# /docs loads plus the licence, and records the version, licence and tarball checksum.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-5.35.0}
DEST=src/headrace/api/static/swagger
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(cd "$work" && npm pack --silent "swagger-ui-dist@$VERSION")
tar -xzf "$work/$tarball" -C "$work"
mkdir -p "$DEST"
for f in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE; do
  cp "$work/package/$f" "$DEST/$f"
done
license=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['license'])" "$work/package/package.json")
sha=$(sha256sum "$work/$tarball" | cut -d' ' -f1)
cat > "$DEST/VERSION" <<INFO
swagger-ui-dist $VERSION
licence: $license (see LICENSE)
source: https://registry.npmjs.org/swagger-ui-dist/-/$tarball
sha256: $sha
files: swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE
INFO
echo "vendored swagger-ui-dist $VERSION ($license) into $DEST"
