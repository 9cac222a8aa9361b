"""The benchmark's second network: a CIFAR-sized RGB ConvNet (3x32x32 in, 10 classes), so that
the fast paths are not tuned to the seed net's shapes alone. PyTorch's default init."""
import torch
import torch.nn.functional as F


class CifarNet(torch.nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.conv_1 = torch.nn.Conv2d(3, 32, kernel_size=3, padding=1)
        self.conv_2 = torch.nn.Conv2d(32, 32, kernel_size=3, padding=1)
        self.conv_3 = torch.nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.conv_4 = torch.nn.Conv2d(64, 64, kernel_size=3, padding=1)
        self.linear_1 = torch.nn.Linear(64 * 8 * 8, 512)
        self.linear_2 = torch.nn.Linear(512, num_classes)

    def forward(self, x):
        out = F.max_pool2d(F.relu(self.conv_2(F.relu(self.conv_1(x)))), 2)
        out = F.max_pool2d(F.relu(self.conv_4(F.relu(self.conv_3(out)))), 2)
        out = F.relu(self.linear_1(out.flatten(1)))
        logits = self.linear_2(out)
        return logits, F.softmax(logits, dim=1)
