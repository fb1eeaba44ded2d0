"""Weight bits vs on-chip HR@10 vs energy per inference of the ML-1M model on the 45 nm chip.

The graph's float weights are quantised again to each width (on the calibration samples it was converted with);
fewer bits read less synapse memory but lose ranking quality. One grid axis, ``conversion.weight_bits``; writes
runs/dse/examples/weight_bits.png (under a minute on 2 cores: one re-quantisation per width):

    .venv/bin/python examples/dse_weight_bits.py [--samples 1000] [--workers 2] [--out DIR]
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dse_common import arguments, save, sweep  # noqa: E402

args = arguments(__doc__.splitlines()[0])
df = sweep(args, "weight_bits", {"conversion.weight_bits": [3, 4, 5, 6, 7, 8]}).sort_values("weight_bits")
print(df[["weight_bits", "energy_uJ", "HR@10", "NDCG@10", "cores_used"]].to_string(index=False))

fig, ax = plt.subplots(figsize=(6, 4))
points = ax.scatter(df["energy_uJ"], df["HR@10"], c=df["weight_bits"], cmap="viridis", s=40, zorder=3)
ax.plot(df["energy_uJ"], df["HR@10"], c="0.6", lw=0.8)
for _, row in df.iterrows():
    ax.annotate(f"{row['weight_bits']} bit", (row["energy_uJ"], row["HR@10"]), fontsize=7,
                textcoords="offset points", xytext=(5, -3))
fig.colorbar(points, ax=ax, label="weight bits")
ax.set_xlabel("energy per inference (uJ)")
ax.set_ylabel("on-chip HR@10")
ax.set_title(f"ML-1M SSR on {args.chip}: weight bits ({args.samples} test inferences per point)", fontsize=9)
save(fig, args.out / "weight_bits.png")
