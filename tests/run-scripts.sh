#!/bin/sh
# Run every tests/scripts/*.sh against the binaries in $BUILD (default
# build).  Each script prints "ok - ..." / "not ok - ..." lines and exits
# non-zero on failure.  Ends with the plain summary line CI reads.
BUILD=${BUILD:-build}
export BUILD
pass=0
fail=0
for t in tests/scripts/*.sh; do
    [ -f "$t" ] || continue
    if sh "$t"; then
        pass=$((pass + 1))
    else
        echo "FAILED: $t"
        fail=$((fail + 1))
    fi
done
echo "scripts: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
