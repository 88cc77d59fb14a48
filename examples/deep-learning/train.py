"""A smoke test of the container setup: the GPU, and DataLoader workers passing batches
through /dev/shm (which needs --shm-size or --ipc host: Docker's default is 64 MB)."""
import os
import shutil

import torch
from torch.utils.data import DataLoader, Dataset


class Noise(Dataset):
    def __len__(self):
        return 64

    def __getitem__(self, i):
        return torch.randn(3, 224, 224), i % 10


def main():
    print("torch", torch.__version__, "cuda available:", torch.cuda.is_available())
    for i in range(torch.cuda.device_count()):
        print(f"  GPU {i}: {torch.cuda.get_device_name(i)}")
    shm = shutil.disk_usage("/dev/shm")
    print(f"/dev/shm: {shm.total // 2**20} MiB")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 224 * 224, 10)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loader = DataLoader(Noise(), batch_size=16, num_workers=int(os.environ.get("WORKERS", "4")))
    for x, y in loader:
        loss = torch.nn.functional.cross_entropy(model(x.to(device)), y.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
    print("loss", float(loss))


if __name__ == "__main__":
    main()
