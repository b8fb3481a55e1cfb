"""The lab's neuron at lags 0..4: lag-wise vs joint fits, drift, SVD and bilinear.

Held-out bits per spike with contiguous 5-fold CV (BlockedTimeSeriesSplit,
gap 4 = the largest lag), exposure = the bin widths, routed by metadata.  The
grid search is timed with threads pinned to 1 (unless ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ... are set).

Run: ``python benchmarks/real_neuron_lags.py [path/to/nds_cl_5_data.mat]``
(default ``../shared/data/nds_cl_5_data.mat`` beside the repository).
"""

from __future__ import annotations

from run_all import default_thread_environment  # no numeric imports

# Before numpy is imported: one thread per runtime unless the caller set them,
# so the times printed compare across machines and revisions.
default_thread_environment(1)

import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_validate  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklearn_lnp import (  # noqa: E402
    BlockedTimeSeriesSplit,
    LagTransformer,
    PoissonLNPRegressor,
    SlowDriftFeatures,
    SVDSeparator,
)
from sklearn_lnp.datasets import load_recording, recording_design  # noqa: E402
from sklearn_lnp.metrics import get_scorer  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nds_cl_5_data.mat"
ALPHAS = (0.1, 1.0, 3.0, 10.0, 30.0, 100.0)
LAGS = range(5)


def regressor(alpha=0.0):
    return PoissonLNPRegressor(alpha=alpha).set_fit_request(exposure=True)


def cv_bits(estimator, X, y, e, cv):
    out = cross_validate(
        estimator, X, y, cv=cv, scoring=get_scorer("bits_per_spike"), params={"exposure": e}
    )
    return out["test_score"]


def main(path=DEFAULT):
    warnings.simplefilter("ignore", UserWarning)
    sklearn.set_config(enable_metadata_routing=True)
    design = recording_design(load_recording(path))
    y, e = design.counts, design.exposure
    stimulus = design.X  # row k = frame k (interval k <-> frame k)
    Xlag = LagTransformer(lags=LAGS).fit_transform(stimulus)
    n_pixels = stimulus.shape[1]
    t = (np.cumsum(e) - e / 2).reshape(-1, 1)
    drift = SlowDriftFeatures().fit_transform(t)
    cv = BlockedTimeSeriesSplit(5, gap=max(LAGS))
    from threadpoolctl import threadpool_info

    threads = sorted({pool["num_threads"] for pool in threadpool_info()})
    print(
        f"{y.size} bins, {int(y.sum())} spikes; 5-fold blocked CV, gap {max(LAGS)}; "
        f"BLAS/OpenMP threads {threads}"
    )

    print("\nLag-wise fits (the lab's recipe, alpha=0), held-out bits/spike:")
    for lag in LAGS:
        block = Xlag[:, lag * n_pixels : (lag + 1) * n_pixels]
        scores = cv_bits(regressor(0.0), block, y, e, cv)
        print(f"  lag {lag}: {scores.mean():+.4f}  (folds {np.round(scores, 3)})")
    block0 = Xlag[:, :n_pixels]
    for alpha in (1.0, 3.0, 10.0):
        print(f"  lag 0, alpha {alpha}: {cv_bits(regressor(alpha), block0, y, e, cv).mean():+.4f}")

    print("\nJoint 5-lag fit, pipeline LagTransformer -> PoissonLNPRegressor, per alpha:")
    pipe = make_pipeline(LagTransformer(lags=LAGS), regressor())
    start = time.perf_counter()
    search = GridSearchCV(
        pipe,
        {"poissonlnpregressor__alpha": list(ALPHAS)},
        cv=cv,
        scoring=get_scorer("bits_per_spike"),
    ).fit(stimulus, y, exposure=e)
    for alpha, score in zip(ALPHAS, search.cv_results_["mean_test_score"], strict=True):
        print(f"  alpha {alpha:6.1f}: {score:+.4f}")
    print(
        f"  GridSearchCV chose alpha {search.best_params_['poissonlnpregressor__alpha']}, "
        f"CV bits/spike {search.best_score_:+.4f} ({time.perf_counter() - start:.1f} s)"
    )
    exact = [cv_bits(regressor(a), Xlag, y, e, cv).mean() for a in (3.0, 10.0, 30.0)]
    print(f"  pre-lagged design (exact history), alpha 3/10/30: {np.round(exact, 4)}")

    print("\nNested CV (outer 5 blocks, alpha chosen by inner 4-fold blocked CV):")
    inner = GridSearchCV(
        make_pipeline(LagTransformer(lags=LAGS), regressor()),
        {"poissonlnpregressor__alpha": [1.0, 3.0, 10.0, 30.0, 100.0]},
        cv=BlockedTimeSeriesSplit(4, gap=max(LAGS)),
        scoring=get_scorer("bits_per_spike"),
    )
    outer = cross_validate(
        inner,
        stimulus,
        y,
        cv=cv,
        scoring=get_scorer("bits_per_spike"),
        params={"exposure": e},
        return_estimator=True,
    )
    chosen = [est.best_params_["poissonlnpregressor__alpha"] for est in outer["estimator"]]
    print(f"  held-out bits/spike {outer['test_score'].mean():+.4f}, alphas chosen {chosen}")

    print("\nJoint fit with slow-drift regressors (6 Legendre polynomials), per alpha:")
    Xd = np.hstack([Xlag, drift])
    for alpha in (3.0, 10.0, 30.0):
        print(f"  alpha {alpha:5.1f}: {cv_bits(regressor(alpha), Xd, y, e, cv).mean():+.4f}")

    print("\nRank-1 models (held-out bits/spike) and where the spatial map peaks:")
    for name, X, n_cov in (("no drift", Xlag, 0), ("drift", Xd, drift.shape[1])):
        for method, center, alpha in (
            ("svd", "over_pixels", 10.0),
            ("svd", "over_lags", 10.0),
            ("svd", "none", 10.0),
            ("bilinear", "none", 1.0),
            ("bilinear", "none", 10.0),
        ):
            model = SVDSeparator(
                regressor(alpha),
                frame_shape=design.frame_shape,
                center=center,
                fit_method=method,
                n_covariates=n_cov,
            )
            scores = cv_bits(model, X, y, e, cv)
            model.fit(X, y, exposure=e)
            peak = np.unravel_index(np.argmax(np.abs(model.spatial_)), model.spatial_.shape)
            print(
                f"  {name:8s} {method:8s} center {center:11s} alpha {alpha:4.1f}: "
                f"{scores.mean():+.4f}; peak row {peak[0]}, col {peak[1]}; "
                f"temporal {np.round(model.temporal_, 2)}"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
