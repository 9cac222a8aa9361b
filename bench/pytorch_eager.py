"""Contender B: the best plain PyTorch eager loop: the whole dataset as one tensor on the
device, batches gathered by index from a randperm, losses kept on the device, evaluation in
large batches under no_grad. With `--compile 1`, contender B': the same loop with the model
under torch.compile (inductor), its compilation timed apart, before the first epoch."""
import os
import sys
import time

import torch
import torch.nn.functional as F

from pytorch_cifar_net import CifarNet
from proc_counters import difference, sample
from pytorch_common import ConvNet, load_idx, parse_args, report, synchronize

BATCH = 128
EVAL_BATCH = 1000

args = parse_args(sys.argv)
device = torch.device(args["device"])
compiled = args["compile"] == "1"
seed_net = args["net"] == "seed"
files = (["MNIST/raw/train-images-idx3-ubyte", "MNIST/raw/train-labels-idx1-ubyte", "MNIST/raw/t10k-images-idx3-ubyte", "MNIST/raw/t10k-labels-idx1-ubyte"]
         if seed_net else ["train-images.idx", "train-labels.idx", "test-images.idx", "test-labels.idx"])


def load(images_name, labels_name):
    images = load_idx(os.path.join(args["data"], images_name))
    labels = load_idx(os.path.join(args["data"], labels_name))
    shape = (-1, 1, 28, 28) if seed_net else (-1, 3, 32, 32)
    return images.view(shape).to(device).float().div_(255), labels.to(device).long()


train_x, train_y = load(files[0], files[1])
test_x, test_y = load(files[2], files[3])

torch.manual_seed(1)
model = (ConvNet if seed_net else CifarNet)(num_classes=10).to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
# The eager module keeps the parameters; the compiled wrapper shares them.
forward = torch.compile(model, dynamic=False) if compiled else model


@torch.no_grad()
def accuracy(x, y):
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for start in range(0, x.shape[0], EVAL_BATCH):
        logits, _ = forward(x[start:start + EVAL_BATCH])
        correct += (logits.argmax(1) == y[start:start + EVAL_BATCH]).sum()
    return correct.item() / x.shape[0]


def warm_up():
    """Compiles every graph the epochs will run (static shapes: the full batch, the last
    partial batch, training and no_grad evaluation) without changing a parameter."""
    started = time.perf_counter()
    count = train_x.shape[0]
    for size in sorted({BATCH, count % BATCH} - {0}):
        logits, _ = forward(train_x[:size])
        F.cross_entropy(logits, train_y[:size]).backward()
        optimizer.zero_grad(set_to_none=True)
    model.eval()
    for x in (train_x, test_x):
        with torch.no_grad():
            for size in sorted({min(EVAL_BATCH, x.shape[0]), x.shape[0] % EVAL_BATCH} - {0}):
                forward(x[:size])
    model.train()
    synchronize(device)
    return time.perf_counter() - started


compile_seconds = warm_up() if compiled else None
epochs = []
counters = []
count = train_x.shape[0]
for epoch in range(args["epochs"]):
    before = sample()
    started = time.perf_counter()
    model.train()
    order = torch.randperm(count, device=device)
    losses = []
    for start in range(0, count, BATCH):
        index = order[start:start + BATCH]
        logits, _ = forward(train_x[index])
        loss = F.cross_entropy(logits, train_y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    torch.stack(losses).cpu()
    synchronize(device)
    trained = time.perf_counter()
    model.eval()
    train_accuracy = accuracy(train_x, train_y)
    epochs.append({"train": trained - started, "seed": time.perf_counter() - started, "trainAccuracy": train_accuracy})
    counters.append(difference(before, sample()))

name = "B': eager loop, torch.compile" if compiled else "B: eager loop"
report(name, device, epochs, accuracy(test_x, test_y), compileSeconds=compile_seconds, counters=counters)
