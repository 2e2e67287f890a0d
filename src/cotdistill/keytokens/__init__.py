"""Key rationale tokens: selectors that score each rationale token's support for the gold label, a score cache,
the glue that feeds the key-token variants, and analyses of trained students (logit lens, score heatmaps).

The study runner calls :func:`prepare_key_token_extras` before ``build_instances``.
"""

from cotdistill.keytokens.api import RationaleScores, prepare_key_token_extras, score_rationales, variant_selector
from cotdistill.keytokens.cache import ScoreCache
from cotdistill.keytokens.scoring import Scorer
from cotdistill.keytokens.selectors import SELECTORS, Selector, make_selector

__all__ = ["SELECTORS", "RationaleScores", "ScoreCache", "Scorer", "Selector", "make_selector",
           "prepare_key_token_extras", "score_rationales", "variant_selector"]
