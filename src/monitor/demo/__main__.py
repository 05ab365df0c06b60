"""`python -m monitor.demo [seed] > scenario.json`: dump the scenario, for the replay source's tests."""

import json
import sys

from monitor.demo import build_scenario

json.dump(build_scenario(int(sys.argv[1]) if len(sys.argv) > 1 else 7), sys.stdout, ensure_ascii=False)
