"""Contender A: the seed's PyTorch script as written (torchvision MNIST, ToTensor per image,
a shuffling DataLoader, per-epoch training accuracy computed with autograd on), timed."""
import sys
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from pytorch_common import ConvNet, parse_args, report, synchronize

args = parse_args(sys.argv)
device = torch.device(args["device"])
if device.type == "cuda":
    torch.backends.cudnn.deterministic = True

train_dataset = datasets.MNIST(root=args["data"], train=True, transform=transforms.ToTensor(), download=False)
test_dataset = datasets.MNIST(root=args["data"], train=False, transform=transforms.ToTensor())
train_loader = DataLoader(dataset=train_dataset, batch_size=128, shuffle=True)
test_loader = DataLoader(dataset=test_dataset, batch_size=128, shuffle=False)

torch.manual_seed(1)
model = ConvNet(num_classes=10).to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)


def compute_accuracy(model, data_loader):
    correct_pred, num_examples = 0, 0
    for features, targets in data_loader:
        features = features.to(device)
        targets = targets.to(device)
        logits, probas = model(features)
        _, predicted_labels = torch.max(probas, 1)
        num_examples += targets.size(0)
        correct_pred += (predicted_labels == targets).sum()
    return correct_pred.float() / num_examples * 100


log = []
epochs = []
for epoch in range(args["epochs"]):
    started = time.perf_counter()
    model = model.train()
    for batch_idx, (features, targets) in enumerate(train_loader):
        features = features.to(device)
        targets = targets.to(device)
        logits, probas = model(features)
        cost = F.cross_entropy(logits, targets)
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        if not batch_idx % 50:
            log.append('Epoch: %03d/%03d | Batch %03d/%03d | Cost: %.4f' % (epoch + 1, args["epochs"], batch_idx, len(train_loader), cost))
    synchronize(device)
    trained = time.perf_counter()
    model = model.eval()
    accuracy = compute_accuracy(model, train_loader)
    log.append('Epoch: %03d/%03d training accuracy: %.2f%%' % (epoch + 1, args["epochs"], accuracy))
    synchronize(device)
    epochs.append({"train": trained - started, "seed": time.perf_counter() - started, "trainAccuracy": float(accuracy) / 100})

with torch.set_grad_enabled(False):
    test_accuracy = float(compute_accuracy(model, test_loader)) / 100
report("A: seed script", device, epochs, test_accuracy)
