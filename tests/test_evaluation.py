import math

import numpy as np
import pytest

from lmcourse.evaluation import evaluate_log_probs, perplexity_from_nll


def test_uniform_model_has_perplexity_of_its_vocabulary():
    log_probs = np.full(50, -math.log(7))
    result = evaluate_log_probs(log_probs)
    assert result["perplexity"] == pytest.approx(7.0)
    assert result["cross_entropy_bits"] == pytest.approx(math.log2(7))
    assert result["predicted_tokens"] == 50


def test_char_level_reports_bits_per_character():
    result = evaluate_log_probs(np.log([0.5, 0.25]), level="char")
    assert result["bits_per_character"] == pytest.approx(1.5)


def test_zero_probability_gives_infinite_perplexity():
    assert evaluate_log_probs(np.array([-1.0, -np.inf]))["perplexity"] == math.inf


def test_rejects_non_log_probabilities():
    with pytest.raises(ValueError):
        evaluate_log_probs(np.array([0.5]))
    with pytest.raises(ValueError):
        perplexity_from_nll(1.0, 0)
