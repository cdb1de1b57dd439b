"""Write the example's data set, data/mine.npz beside this file: the format `source: npz` reads.

Four arrays: x_train and x_test, images N x C x H x W (here uint8, 1 x 16 x 16), and y_train and y_test,
integer labels 0..K-1 (here K = 10). Each class is a smooth random pattern; every image is its class's
pattern plus pixel noise, so a small network learns it in a few epochs, but not perfectly.

    .venv/bin/python examples/own_model/make_data.py
"""

from pathlib import Path

import numpy as np

N_TRAIN, N_TEST, CLASSES, SIZE, SEED = 2000, 500, 10, 16, 0


def images(rng, patterns, n):
    labels = rng.permutation(np.arange(n) % CLASSES)
    noisy = 0.35 * patterns[labels] + rng.standard_normal((n, 1, SIZE, SIZE))
    return np.clip(128 + 40 * noisy, 0, 255).astype(np.uint8), labels.astype(np.int64)


def main() -> Path:
    rng = np.random.default_rng(SEED)
    coarse = rng.standard_normal((CLASSES, 1, 4, 4))
    patterns = coarse.repeat(SIZE // 4, axis=2).repeat(SIZE // 4, axis=3)  # 4 x 4 blocks, upsampled
    x_train, y_train = images(rng, patterns, N_TRAIN)
    x_test, y_test = images(rng, patterns, N_TEST)
    path = Path(__file__).resolve().parent / "data" / "mine.npz"
    path.parent.mkdir(exist_ok=True)
    np.savez_compressed(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


if __name__ == "__main__":
    print(f"wrote {main()}")
