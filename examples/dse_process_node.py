"""Process node (45 nm vs smaller nodes) vs energy per inference and chip area of the ML-1M model.

Energies of the 45 nm chip are scaled to each node (Stillmaker & Baas 2017, at the chip's 0.9 V; see
hardware/area.py) and the area is rebuilt from memory bits and logic at that node; the mapping, the spikes and
the latency in cycles do not change. One grid axis, ``chip.process_nm``; writes runs/dse/examples/process_node.png
(about 15 s on 2 cores):

    .venv/bin/python examples/dse_process_node.py [--samples 1000] [--workers 2] [--out DIR]
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dse_common import arguments, save, sweep  # noqa: E402

args = arguments(__doc__.splitlines()[0])
df = sweep(args, "process_node", {"chip.process_nm": [45, 32, 20, 16, 14, 10, 7]}).sort_values("process_nm",
                                                                                          ascending=False)
df["energy_vs_45nm"] = df["energy_uJ"] / df.loc[df["process_nm"] == 45, "energy_uJ"].iloc[0]
print(df[["process_nm", "energy_uJ", "energy_vs_45nm", "area_mm2", "latency_us"]].to_string(index=False))

fig, (energy_ax, area_ax) = plt.subplots(1, 2, figsize=(9, 3.6))
labels = [f"{nm} nm" for nm in df["process_nm"]]
energy_ax.bar(labels, df["energy_uJ"], color="tab:blue")
for i, ratio in enumerate(df["energy_vs_45nm"]):
    energy_ax.annotate(f"x{ratio:.2f}", (i, df["energy_uJ"].iloc[i]), ha="center", fontsize=7,
                       textcoords="offset points", xytext=(0, 2))
energy_ax.set_ylabel("energy per inference (uJ)")
area_ax.bar(labels, df["area_mm2"], color="tab:green")
area_ax.set_ylabel("chip area (mm$^2$)")
fig.suptitle(f"ML-1M SSR on {args.chip} scaled to smaller nodes ({args.samples} inferences per point)", fontsize=9)
save(fig, args.out / "process_node.png")
