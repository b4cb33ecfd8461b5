#!/usr/bin/env bash
# Adds every public symbol the build reports as undeclared (RS0016) to PublicAPI.Unshipped.txt, for both target
# frameworks. Review the diff: each new line is a public API promise. At a release, move Unshipped into Shipped.
set -euo pipefail
cd "$(dirname "$0")"
# Private scratch files: another build on the machine must not write over them.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HPA_API_TMP="$tmp"
# The analyzer reports a record's members only once its type is declared: repeat until nothing new is reported.
for pass in 1 2 3; do
for tfm in net8.0 net10.0; do
  rm -f "$tmp/hpa-api-$tfm.sarif"
  dotnet build --no-incremental -c Release -f "$tfm" "-p:ErrorLog=$tmp/hpa-api-$tfm.sarif%2Cversion%3D2.1" -p:TreatWarningsAsErrors=false >/dev/null || true
done
python3 - <<'PY'
import json, glob, os
names = set()
for path in glob.glob(os.environ['HPA_API_TMP'] + '/hpa-api-*.sarif'):
    for result in json.load(open(path))['runs'][0]['results']:
        if result.get('ruleId') == 'RS0016':
            names.add(result['properties']['customProperties']['APIName'])
lines = [l for l in open('PublicAPI.Unshipped.txt').read().splitlines() if l and not l.startswith('#')]
merged = sorted(set(lines) | names, key=lambda s: s.lstrip('~').replace('static ', '').replace('override ', '').replace('virtual ', '').replace('abstract ', '').replace('const ', ''))
open('PublicAPI.Unshipped.txt', 'w').write('#nullable enable\n' + ''.join(l + '\n' for l in merged))
print(f'{len(names)} new, {len(merged)} in PublicAPI.Unshipped.txt')
open(os.environ['HPA_API_TMP'] + '/hpa-api-new', 'w').write(str(len(names)))
PY
[ "$(cat $tmp/hpa-api-new)" = "0" ] && break
done
