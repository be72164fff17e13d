"""Train one Autoencoder on several processes, each on its own share of the rows.

Launched by torchrun, which starts the processes and sets RANK, WORLD_SIZE,
LOCAL_RANK and the rendezvous address:

    torchrun --nproc_per_node=2 ddp_train.py model.safetensors      # 2 CPU processes
    torchrun --nproc_per_node=8 ddp_train.py model.safetensors      # 8 GPUs, one node
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d \\
             --rdzv_endpoint=HOST:29500 ddp_train.py model.safetensors  # 2 nodes
"""

import os
import sys

import torch
import torch.distributed as dist
from sklearn.datasets import load_digits

from sklearn_ae import Autoencoder, save


def main(path):
    on_gpus = torch.cuda.is_available()
    # NCCL between GPUs, gloo between CPU processes.
    dist.init_process_group("nccl" if on_gpus else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = "cpu"
    if on_gpus:
        local = int(os.environ["LOCAL_RANK"])
        torch.cuda.set_device(local)
        device = f"cuda:{local}"

    X = load_digits().data
    # Each rank passes its own rows (in practice: reads its own files).
    share = X[rank::world]
    # batch_size is per process: the global batch is batch_size * world.
    ae = Autoencoder(n_components=16, batch_size=64, max_iter=40, random_state=0,
                     device=device)
    ae.fit(share)  # one model, trained by every rank together
    if rank == 0:  # every rank holds the same weights: one saves them
        save(ae, path)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
