"""Data parallelism: 2 processes under torchrun must train exactly like 1 process.

With the same global batch (2 x 16 = 1 x 32), no shuffling (rank r reads samples
r, r + 2, ... of every global batch), a model without batch norm or dropout and
plain SGD, the averaged gradients of DDP equal the gradient of the full batch, so
the final weights agree up to float rounding. Both runs go through the real
``course_utils.ddp_demo`` script, on the CPU with the Gloo backend, on localhost.
"""
import os
import socket
import subprocess
import sys

import pytest
import torch

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed not available")

COMMON = ["--epochs", "2", "--train-subset", "128", "--no-shuffle", "--no-progress", "--size", "12", "--threads", "1"]
TIMEOUT = 240  # seconds; a generous bound for a busy 2-core machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS="1", DLCV_DEVICE="cpu")  # CPU + Gloo, no thread warning
    proc = subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, f"command failed:\n{' '.join(args)}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def test_two_processes_match_one_process(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setenv("DLCV_DEVICE", "cpu")
    one, two = tmp_path / "one.pt", tmp_path / "two.pt"
    # The one-process reference runs in this process: a third interpreter would pay the
    # several seconds of importing torch again.
    from course_utils.ddp_demo import main

    threads = torch.get_num_threads()
    with torch.random.fork_rng():
        summary = main([*COMMON, "--batch-size", "32", "--out", str(one)])
    torch.set_num_threads(threads)
    assert (summary["world_size"], summary["global_batch"]) == (1, 32)
    assert "processes=1 global_batch=32" in capsys.readouterr().out

    launcher = ["-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
                "--master_addr=127.0.0.1", f"--master_port={free_port()}"]
    out2 = run([*launcher, "-m", "course_utils.ddp_demo", *COMMON, "--batch-size", "16", "--out", str(two)], tmp_path)
    assert "processes=2 global_batch=32" in out2.stdout
    assert out2.stdout.count("processes=") == 1  # only rank 0 prints

    a, b = torch.load(one, weights_only=True), torch.load(two, weights_only=True)
    assert (a["world_size"], b["world_size"]) == (1, 2)
    assert a["lr"] == b["lr"]  # the same global batch gives the same linearly scaled learning rate
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for name in a["state_dict"]:
        torch.testing.assert_close(b["state_dict"][name], a["state_dict"][name], rtol=0, atol=1e-5, msg=name)
    # train loss averaged over both ranks, val accuracy summed over the two val shards
    assert b["train_loss"] == pytest.approx(a["train_loss"], abs=1e-5)
    val_size = 360  # DistributedSampler pads an odd-sized shard with one repeated sample
    assert b["val_accuracy"] == pytest.approx(a["val_accuracy"], abs=1.0 / val_size + 1e-9)
    assert b["history"]["train_loss"][0] > b["history"]["train_loss"][-1]
