"""The PyTorch side of the decode benchmark: torchvision's ImageFolder with ToTensor behind a
DataLoader(num_workers=2), read once through. Prints one JSON line: {images, seconds}."""
import json
import sys
import time

import torch
from torchvision import datasets, transforms


def main():
    root = sys.argv[1]
    start = time.perf_counter()
    folder = datasets.ImageFolder(root, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(folder, batch_size=64, num_workers=2)
    count = 0
    for images, _ in loader:
        count += images.shape[0]
    json.dump({"images": count, "seconds": time.perf_counter() - start}, sys.stdout)


if __name__ == "__main__":
    main()
