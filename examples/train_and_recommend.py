"""Train SSR from Python on the built-in synthetic dataset, evaluate it against POP, ask it for recommendations,
and look at its spiking activity (firing rates and operation counts per inference).

    .venv/bin/python examples/train_and_recommend.py            # about a minute on 2 CPU cores
"""

import torch

from ssr_neuro.data import dataset_stats, format_stats, load_dataset
from ssr_neuro.model import SSR, Recorder, SSRConfig
from ssr_neuro.training import TrainConfig, evaluate_model, evaluate_pop, train

data = load_dataset("synthetic")
print(format_stats(dataset_stats(data)))

torch.manual_seed(0)
model = SSR(SSRConfig(n_items=data.n_items))
train(model, data, TrainConfig(epochs=5))

ssr, pop = evaluate_model(model, data.test), evaluate_pop(data.item_counts, data.test)
print(f"test HR@10  SSR {ssr['HR@10']:.4f}  POP {pop['HR@10']:.4f}")

# recommendations for the first test history, in original item ids
h, n = torch.from_numpy(data.test.history[:1]), torch.from_numpy(data.test.length[:1])
with torch.no_grad():
    scores = model.scores(h, n)[0]
scores[0] = -torch.inf
top = torch.topk(scores, 5).indices.tolist()
print("history:", [data.item_ids[i - 1] for i in h[0, : n[0]].tolist()])
print("top-5:  ", [data.item_ids[i - 1] for i in top])

# spiking activity over 512 test inferences
rec = Recorder()
with torch.no_grad():
    model.scores(torch.from_numpy(data.test.history[:512]), torch.from_numpy(data.test.length[:512]), rec)
for name, layer in rec.summary()["layers"].items():
    detail = f"firing rate {layer['firing_rate']:.3f}" if layer["kind"] == "lif" else f"{layer['ops']:,.0f} {layer['kind']}s"
    print(f"{name:<18} {detail}")
