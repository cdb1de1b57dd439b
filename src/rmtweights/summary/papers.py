"""The numbers the papers report that the summary compares with, and where each is printed.

Keys use this workflow's names (models ``mlp``, ``lenet``, ``alexnet``; data sets ``mnist``,
``cifar10``; layers ``fc1``, ``conv2``, ...). The Table 1 values of paper 000 (phi and phi-hat for a
rank-2 signal) are compared where the sweep computes them (:func:`rmtweights.sweeps.table1_comparison`).

References
----------
.. [1] K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN
   Weight Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911, Sec. 4, Tables 1–2,
   Figs. 2–3.
.. [2] M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight
   matrices", 2024 (an earlier version: Phys. Rev. E 106, 054124 (2022), arXiv:2203.14661),
   Secs. 3–4, App. B.
.. [3] I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank
   perturbations of large random matrices", 2025, arXiv:2507.12182, Assumption 2, eq. (1.8),
   Theorem 2.2, App. A.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CITATION_000",
    "CITATION_001",
    "CITATION_003",
    "PAPER_METHODS",
    "PAPER_SETUP",
    "PAPER_TABLE1_DRAWS",
    "PAPER_CORRELATION",
    "PAPER_TABLE2",
    "PAPER_TABLE2_MAX_GAP",
    "PAPER_BATCH",
    "PAPER_LOWRANK",
    "DATASET_NAMES",
    "MODEL_NAMES",
]

CITATION_000 = ('K. Nishikawa, K. Shimizu, H. Hashiguchi, "Evaluating Singular Value Thresholds for DNN Weight '
                'Matrices based on Random Matrix Theory", 2025, arXiv:2512.12911')
CITATION_001 = ('M. Thamm, M. Staats, B. Rosenow, "Random matrix theory analysis of neural network weight '
                'matrices", 2024 (earlier version: Phys. Rev. E 106, 054124 (2022)), arXiv:2203.14661')
CITATION_003 = ('I. Afanasiev, L. Berlyand, M. Kiyashko, "Asymptotic behavior of eigenvalues of large rank '
                'perturbations of large random matrices", 2025, arXiv:2507.12182')

#: The two estimators of sigma paper 000 compares (App. A and B of [1]_), by their registry names
#: (:data:`rmtweights.methods.METHODS`).
PAPER_METHODS = ("bema", "gb")

#: Sec. 4 of [1]_: every model trained for 30 epochs; reported values are mean and SD over 10 seeds.
PAPER_SETUP: dict[str, int] = {"seeds": 10, "epochs": 30}

#: Table 1 of [1]_: phi and phi-hat are means over 100 noise draws.
PAPER_TABLE1_DRAWS = 100

#: Sec. 4 of [1]_ (Fig. 2): Pearson r of Ave_w(s) and keep-top-s accuracy(s), mean and SD over 10
#: seeds, keyed by (model, dataset).
PAPER_CORRELATION: dict[tuple[str, str], tuple[float, float]] = {
    ("mlp", "mnist"): (0.918, 0.008),
    ("lenet", "mnist"): (0.859, 0.041),
    ("alexnet", "mnist"): (0.852, 0.066),
    ("mlp", "cifar10"): (0.918, 0.008),
    ("lenet", "cifar10"): (0.932, 0.029),
    ("alexnet", "cifar10"): (0.919, 0.032),
}

#: Table 2 of [1]_ as printed: (model, layer) -> (min(n, m), {dataset: {method: (s-hat, Ave_w)}}).
#: Layer names are this workflow's (Conv2D_2 = conv2, FC_1 = fc1, ...). Some printed min(n, m)
#: (MLP FC_3: 350, LeNet Conv2D_2: 250) match no layer of the architecture of App. C of [1]_; a
#: layer is compared only where our min(n, m) and data set equal the paper's.
PAPER_TABLE2: dict[tuple[str, str], tuple[int, dict[str, dict[str, tuple[int, float]]]]] = {
    ("mlp", "fc1"): (1024, {"mnist": {"bema": (51, 0.909), "gb": (47, 0.906)},
                            "cifar10": {"bema": (226, 0.969), "gb": (260, 0.971)}}),
    ("mlp", "fc2"): (512, {"mnist": {"bema": (20, 0.976), "gb": (17, 0.976)},
                           "cifar10": {"bema": (95, 0.920), "gb": (112, 0.929)}}),
    ("mlp", "fc3"): (350, {"mnist": {"bema": (10, 0.974), "gb": (10, 0.970)},
                           "cifar10": {"bema": (61, 0.890), "gb": (61, 0.889)}}),
    ("lenet", "conv2"): (250, {"mnist": {"bema": (28, 0.885), "gb": (28, 0.840)},
                               "cifar10": {"bema": (51, 0.962), "gb": (54, 0.964)}}),
    ("lenet", "fc1"): (500, {"mnist": {"bema": (53, 0.875), "gb": (53, 0.873)},
                             "cifar10": {"bema": (138, 0.963), "gb": (117, 0.960)}}),
    ("alexnet", "conv2"): (320, {"mnist": {"bema": (35, 0.969), "gb": (33, 0.969)},
                                 "cifar10": {"bema": (59, 0.965), "gb": (61, 0.966)}}),
    ("alexnet", "conv3"): (576, {"mnist": {"bema": (42, 0.943), "gb": (39, 0.943)},
                                 "cifar10": {"bema": (85, 0.903), "gb": (89, 0.906)}}),
    ("alexnet", "conv4"): (768, {"mnist": {"bema": (54, 0.944), "gb": (50, 0.943)},
                                 "cifar10": {"bema": (84, 0.915), "gb": (81, 0.915)}}),
    ("alexnet", "conv5"): (768, {"mnist": {"bema": (47, 0.935), "gb": (43, 0.933)},
                                 "cifar10": {"bema": (49, 0.909), "gb": (44, 0.908)}}),
    ("alexnet", "fc1"): (1024, {"mnist": {"bema": (10, 0.954), "gb": (10, 0.953)},
                                "cifar10": {"bema": (10, 0.951), "gb": (10, 0.951)}}),
    ("alexnet", "fc2"): (4096, {"mnist": {"bema": (11, 0.956), "gb": (11, 0.953)},
                                "cifar10": {"bema": (10, 0.942), "gb": (10, 0.941)}}),
}
#: Table 2 of [1]_: "Ave_w takes similar values regardless of whether BEMA or Gaussian broadening";
#: its largest BEMA–GB gap is 0.045 (LeNet Conv2D_2, MNIST).
PAPER_TABLE2_MAX_GAP = 0.045

#: Fig. 3 of [1]_: MLP FC_1 on MNIST, BEMA, batch 64 vs 256: Ave_w 0.950 vs 0.829, more spikes at 64.
PAPER_BATCH: dict[str, Any] = {"layer": "fc1", "method": "bema", "batch_sizes": (64, 256), "ave_w": (0.950, 0.829)}

#: Sec. 4 of [1]_ (after Table 2): LeNet on CIFAR-10 with every layer replaced by its low-rank
#: approximation at s-hat: 76.3 % test accuracy with BEMA and with GB; choosing per layer the method
#: with the higher Ave_w, 76.4 % "corresponding to a compression of 69.2 %", against 72.6 % at 32.0 %
#: for the algorithm of [30] of [1]_ (Y. Idelbayev, M. A. Carreira-Perpiñán, "Low-rank compression of
#: neural nets: Learning the rank of each layer", CVPR 2020, pp. 8049–8059). Compression is read as the
#: share of the weights removed, 1 − params / dense params: the paper calls 69.2 % against 32.0 % the
#: more effective compression, and a rank-s layer stores s(n + m) instead of nm numbers (Sec. 3).
#: No dense accuracy is given. Choices use the names of the ``lowrank`` table.
PAPER_LOWRANK: dict[str, Any] = {
    "model": "lenet", "dataset": "cifar10",
    "accuracy": {"bema": 0.763, "gb": 0.763, "best_avew": 0.764},
    "compression": {"best_avew": 0.692},
    "reference": {"name": "Idelbayev and Carreira-Perpiñán (CVPR 2020)", "accuracy": 0.726, "compression": 0.320},
}

#: How the papers write the data sets and models of [1]_.
DATASET_NAMES = {"mnist": "MNIST", "cifar10": "CIFAR-10"}
MODEL_NAMES = {"mlp": "MLP", "lenet": "LeNet", "alexnet": "AlexNet"}
