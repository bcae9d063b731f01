"""The cdk8s app (`npx cdk8s synth` runs it, see cdk8s.yaml): synthesizes every environment into dist/.

Same code path as `gitops synth`, so `npx cdk8s synth` and `make synth` give identical bytes in dist/.
cdk8s-cli's own output folder (CDK8S_OUTDIR) gets one multi-document bundle per environment.
"""
import os
import sys
from pathlib import Path

from gitops.errors import InputError
from gitops.pipeline.synth import synth
from gitops.pipeline.tree import read_tree


def main() -> int:
    root = Path(os.environ.get("GITOPS_ROOT", Path(__file__).resolve().parent))
    try:
        result = synth(root, no_cache=True)
    except KeyboardInterrupt:
        print("interrupted; every dist/<env> is either as before or fully regenerated", file=sys.stderr)
        return 130
    except InputError as exc:
        print(f"error: {len(exc.problems)} problem(s) in the input; nothing was written", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    outdir = os.environ.get("CDK8S_OUTDIR")
    if outdir:
        Path(outdir).mkdir(parents=True, exist_ok=True)
        for env in result.rendered:
            files = read_tree(root / "dist" / env)
            bundle = b"---\n".join(files[k] for k in sorted(files) if k.endswith(".yaml"))
            (Path(outdir) / f"{env}.k8s.yaml").write_bytes(bundle)
    print(f"synthesized {', '.join(result.rendered)} into {root / 'dist'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
