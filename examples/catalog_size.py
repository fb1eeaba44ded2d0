"""Catalog size N against the chip: cores, energy per inference, latency and the readout's share of the energy, for
SSR on the presets (and the larger example chip where a preset runs out of cores), from the catalog benchmark.

Runs ``benchmarks/catalog_scale.py`` (fresh models by default, ``--trained`` for SSR trained one epoch per catalog)
or reads its --json output, then draws four panels against N and writes runs/catalog/catalog_size.png:

    .venv/bin/python examples/catalog_size.py [--from runs/catalog/fresh.json] [--trained] [--items 10000,50000]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PANELS = (("cores", "cores used"), ("energy_uJ", "energy per inference (uJ)"), ("latency_us", "latency (us)"),
          ("readout_share", "readout share of the energy"))

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--from", dest="source", type=Path, default=None, help="a catalog_scale.py --json file to draw")
ap.add_argument("--items", default="10000,50000,200000")
ap.add_argument("--trained", action="store_true")
ap.add_argument("--inferences", type=int, default=1000)
ap.add_argument("--out", type=Path, default=REPO / "runs" / "catalog")
args = ap.parse_args()
args.out.mkdir(parents=True, exist_ok=True)
source = args.source
if source is None:
    source = args.out / ("trained.json" if args.trained else "fresh.json")
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "catalog_scale.py"), "--items", args.items,
                    "--inferences", str(args.inferences), "--json", str(source)]
                   + (["--trained"] if args.trained else []), check=True)
rows = [r for r in json.loads(source.read_text()) if "error" not in r]
for r in json.loads(source.read_text()):
    if "error" in r:
        print(f"N = {r['N']:,} on {r['chip']}: {r['error']}")

fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
for chip in sorted({r["chip"] for r in rows}):
    mine = sorted((r for r in rows if r["chip"] == chip), key=lambda r: r["N"])
    for ax, (key, label) in zip(axes, PANELS):
        ax.plot([r["N"] for r in mine], [r[key] for r in mine], marker="o", label=chip)
for ax, (key, label) in zip(axes, PANELS):
    ax.set_xscale("log")
    ax.set_xlabel("catalog size N (items)")
    ax.set_ylabel(label)
    if key == "readout_share":
        ax.set_ylim(0, 1)
    elif key in ("cores", "energy_uJ"):
        ax.set_yscale("log")
axes[0].legend(fontsize=8)
fig.suptitle(f"SSR on the chip against catalog size ({rows[0]['model']} models; lookup item tables, on-chip top-k)",
             fontsize=9)
fig.tight_layout()
fig.savefig(args.out / "catalog_size.png", dpi=130)
print(f"wrote {args.out / 'catalog_size.png'}")
