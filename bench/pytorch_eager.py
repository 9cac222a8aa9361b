"""Contender B: the best plain PyTorch eager loop: the whole dataset as one tensor on the
device, batches gathered by index from a randperm, losses kept on the device, evaluation in
large batches under no_grad."""
import os
import sys
import time

import torch
import torch.nn.functional as F

from pytorch_common import ConvNet, parse_args, report, synchronize

args = parse_args(sys.argv)
device = torch.device(args["device"])
raw = os.path.join(args["data"], "MNIST", "raw")


def load(images_name, labels_name):
    with open(os.path.join(raw, images_name), "rb") as f:
        images = torch.frombuffer(bytearray(f.read()[16:]), dtype=torch.uint8)
    with open(os.path.join(raw, labels_name), "rb") as f:
        labels = torch.frombuffer(bytearray(f.read()[8:]), dtype=torch.uint8)
    return images.view(-1, 1, 28, 28).to(device).float().div_(255), labels.to(device).long()


train_x, train_y = load("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
test_x, test_y = load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

torch.manual_seed(1)
model = ConvNet(num_classes=10).to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)


@torch.no_grad()
def accuracy(x, y):
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for start in range(0, x.shape[0], 1000):
        logits, _ = model(x[start:start + 1000])
        correct += (logits.argmax(1) == y[start:start + 1000]).sum()
    return correct.item() / x.shape[0]


epochs = []
count = train_x.shape[0]
for epoch in range(args["epochs"]):
    started = time.perf_counter()
    model.train()
    order = torch.randperm(count, device=device)
    losses = []
    for start in range(0, count, 128):
        index = order[start:start + 128]
        logits, _ = model(train_x[index])
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

report("B: eager loop", device, epochs, accuracy(test_x, test_y))
