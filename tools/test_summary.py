#!/usr/bin/env python3
"""Print the closing line of a test run from meson's testlog.json:
"N passed, N failed" (", N skipped" when any were skipped). A test counts
once, whatever number of TAP checks it ran (meson shows those above).
Expected failures (known gaps marked should_fail) count as skipped, not as
passed."""
import json
import sys

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        if not line.strip():
            continue
        result = json.loads(line)["result"]
        if result == "OK":
            passed += 1
        elif result in ("SKIP", "EXPECTEDFAIL"):
            skipped += 1
        else:
            failed += 1
print("%d passed, %d failed%s" % (passed, failed, ", %d skipped" % skipped if skipped else ""))
