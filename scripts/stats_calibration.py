"""Rejection rate of the study's paired test at 0.05 on simulated grids, without and with a planted effect.

    python scripts/stats_calibration.py --simulations 2000

Grids come from :func:`cotdistill.study.stats.simulate_paired_grid` (correlated questions, per-student training
noise); each setting prints how often :func:`crossed_difference_test` rejects, and, for contrast, McNemar's test
on the pooled (seed, question) pairs that the study's tables used before. docs/study.md records the output.
"""

from __future__ import annotations

import argparse

import numpy as np

from cotdistill.study import stats

SETTINGS = [  # (seeds, items, question_sd, seed_sd, noise_sd)
    (3, 1221, 0.7, 0.0, 0.5),
    (3, 1221, 0.7, 0.05, 0.5),
    (3, 1221, 0.7, 0.1, 0.5),
    (3, 1221, 0.7, 0.2, 0.5),
    (3, 500, 0.7, 0.1, 0.5),
    (5, 500, 0.7, 0.1, 0.5),
]
EFFECTS = (0.0, 0.1, 0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--simulations", type=int, default=2000, help="grids per setting and effect")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the simulation")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print("| seeds | questions | question sd | seed sd | effect (logits) | mean difference (pts) "
          "| crossed test rejects | pooled McNemar rejects |")
    print("|---|---|---|---|---|---|---|---|")
    for seeds, items, question_sd, seed_sd, noise_sd in SETTINGS:
        for effect in EFFECTS:
            crossed = pooled = 0
            differences = []
            for _ in range(args.simulations):
                variant, baseline = stats.simulate_paired_grid(rng, seeds=seeds, items=items, effect=effect,
                                                               question_sd=question_sd, seed_sd=seed_sd,
                                                               noise_sd=noise_sd)
                test = stats.crossed_difference_test(variant, baseline)
                crossed += test.p_value < 0.05
                pooled += stats.mcnemar_exact(variant.ravel(), baseline.ravel()).p_value < 0.05
                differences.append(test.difference)
            n = args.simulations
            print(f"| {seeds} | {items} | {question_sd} | {seed_sd} | {effect} | {100 * np.mean(differences):+.1f} "
                  f"| {crossed / n:.3f} | {pooled / n:.3f} |")


if __name__ == "__main__":
    main()
