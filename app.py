"""The cdk8s app (`cdk8s synth` runs this, see cdk8s.yaml): synthesizes every environment into dist/.

Same code path as `gitops synth`, so `npx cdk8s synth` and `make synth` give identical bytes.
"""
import sys
from pathlib import Path

from gitops.errors import InputError
from gitops.synth import synth

if __name__ == "__main__":
    try:
        result = synth(Path(__file__).resolve().parent, no_cache=True)
    except InputError as exc:
        print(f"error: {len(exc.problems)} problem(s) in the input; nothing was written", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        sys.exit(2)
    print(f"synthesized {', '.join(result.rendered)}")
