"""Neurons per core vs energy and latency per inference of the ML-1M model on the 45 nm chip.

Smaller cores spread the model over more cores: more of its work runs in parallel (lower latency) but more spikes
cross the mesh (more network energy). One grid axis, ``chip.neurons_per_core``; writes
runs/dse/examples/neurons_per_core.png (about 15 s on 2 cores):

    .venv/bin/python examples/dse_neurons_per_core.py [--samples 1000] [--workers 2] [--out DIR]
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dse_common import arguments, save, sweep  # noqa: E402

args = arguments(__doc__.splitlines()[0])
df = sweep(args, "neurons_per_core", {"chip.neurons_per_core": [128, 256, 512, 1024, 2048, 4096]})
df = df.sort_values("chip.neurons_per_core")
print(df[["chip.neurons_per_core", "cores_used", "energy_uJ", "latency_us", "HR@10"]].to_string(index=False))

fig, energy_ax = plt.subplots(figsize=(6, 4))
energy_ax.plot(df["chip.neurons_per_core"], df["energy_uJ"], "o-", c="tab:blue")
energy_ax.set_xscale("log", base=2)
energy_ax.set_xlabel("neurons per core")
energy_ax.set_ylabel("energy per inference (uJ)", color="tab:blue")
latency_ax = energy_ax.twinx()
latency_ax.plot(df["chip.neurons_per_core"], df["latency_us"], "s--", c="tab:red")
latency_ax.set_ylabel("latency per inference (us)", color="tab:red")
for _, row in df.iterrows():
    energy_ax.annotate(f"{row['cores_used']} cores", (row["chip.neurons_per_core"], row["energy_uJ"]), fontsize=7,
                       textcoords="offset points", xytext=(0, 6), ha="center")
energy_ax.set_title(f"ML-1M SSR on {args.chip}: neurons per core ({args.samples} inferences per point)", fontsize=9)
save(fig, args.out / "neurons_per_core.png")
