"""Shared pieces of the PyTorch contenders: the seed's ConvNet and the timing report."""
import json
import resource
import sys

import torch
import torch.nn.functional as F


class ConvNet(torch.nn.Module):
    # The seed script's model, unchanged.
    def __init__(self, num_classes):
        super().__init__()
        self.conv_1 = torch.nn.Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=1)
        self.pool_1 = torch.nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=0)
        self.conv_2 = torch.nn.Conv2d(8, 16, kernel_size=(3, 3), stride=(1, 1), padding=1)
        self.pool_2 = torch.nn.MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=0)
        self.linear_1 = torch.nn.Linear(7 * 7 * 16, num_classes)
        for m in self.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                m.weight.data.normal_(0.0, 0.01)
                m.bias.data.zero_()

    def forward(self, x):
        out = self.pool_1(F.relu(self.conv_1(x)))
        out = self.pool_2(F.relu(self.conv_2(out)))
        logits = self.linear_1(out.view(-1, 7 * 7 * 16))
        return logits, F.softmax(logits, dim=1)


def load_idx(path):
    """An IDX file of unsigned bytes (MNIST's format; the synthetic CIFAR-sized set uses it too)."""
    with open(path, "rb") as f:
        raw = f.read()
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(raw[3])]
    return torch.frombuffer(bytearray(raw[4 + 4 * len(dims):]), dtype=torch.uint8).view(dims)


def parse_args(argv):
    args = {"epochs": 3, "device": "cpu", "threads": 0, "data": None, "net": "seed", "compile": "0"}
    for i in range(1, len(argv), 2):
        args[argv[i].lstrip("-")] = argv[i + 1]
    args["epochs"] = int(args["epochs"])
    args["threads"] = int(args["threads"])
    if args["threads"] > 0:
        torch.set_num_threads(args["threads"])
    return args


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def report(contender, device, epochs, test_accuracy, **extra):
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"contender": contender, "device": str(device), "threads": torch.get_num_threads(), "torch": torch.__version__,
               "epochs": epochs, "testAccuracy": test_accuracy, "peakRssMB": peak_mb, **extra}, sys.stdout)
    sys.stdout.write("\n")
