rule fit_mp:
    input:
        spectra=f"{RUN_DIR}/spectra.parquet",
    output:
        fits=f"{RUN_DIR}/mp_fit.parquet",
    log:
        f"logs/fit_mp/{RUN_KEYS}.log",
    benchmark:
        f"logs/fit_mp/{RUN_KEYS}.benchmark.tsv"
    params:
        methods=get_config("analysis", "methods"),
        alpha=get_config("analysis", "bema", "alpha"),
        a=get_config("analysis", "gb", "a"),
        beta=get_config("analysis", "beta"),
        code=get_code("mp_fit"),
    threads: 1
    resources:
        runtime=15,
        mem_mb=get_analysis_mem_mb,
    group:
        "analysis"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/fit_mp.py"


rule test_heavy_tail:
    input:
        spectra=f"{RUN_DIR}/spectra.parquet",
    output:
        heavy_tail=f"{RUN_DIR}/heavy_tail.parquet",
    log:
        f"logs/test_heavy_tail/{RUN_KEYS}.log",
    benchmark:
        f"logs/test_heavy_tail/{RUN_KEYS}.benchmark.tsv"
    params:
        heavy_tail=get_config("analysis", "heavy_tail"),
        code=get_code("heavy_tail"),
    threads: 1
    resources:
        runtime=30,
        mem_mb=get_analysis_mem_mb,
    group:
        "analysis"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/test_heavy_tail.py"


rule test_universality:
    input:
        final=f"{RUN_DIR}/model/final.pt",
        init=f"{RUN_DIR}/model/init.pt",
    output:
        summary=f"{RUN_DIR}/universality.parquet",
        spacings=f"{RUN_DIR}/spacings.parquet",
        number_variance=f"{RUN_DIR}/number_variance.parquet",
        porter_thomas=f"{RUN_DIR}/porter_thomas.parquet",
    log:
        f"logs/test_universality/{RUN_KEYS}.log",
    benchmark:
        f"logs/test_universality/{RUN_KEYS}.benchmark.tsv"
    params:
        reshape=get_config("analysis", "reshape"),
        universality=get_config("analysis", "universality"),
        code=get_code("universality"),
    threads: 1
    resources:
        runtime=30,
        mem_mb=get_analysis_mem_mb,
    group:
        "analysis"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/test_universality.py"


rule compute_metric:
    input:
        spectra=f"{RUN_DIR}/spectra.parquet",
        fits=f"{RUN_DIR}/mp_fit.parquet",
    output:
        metric=f"{RUN_DIR}/metric.parquet",
        curve=f"{RUN_DIR}/avew_curve.parquet",
    log:
        f"logs/compute_metric/{RUN_KEYS}.log",
    benchmark:
        f"logs/compute_metric/{RUN_KEYS}.benchmark.tsv"
    params:
        beta=get_config("analysis", "beta"),
        k_fraction=get_config("analysis", "prune", "k_fraction"),
        code=get_code("metric"),
    threads: 1
    resources:
        runtime=15,
        mem_mb=get_analysis_mem_mb,
    group:
        "analysis"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/compute_metric.py"
