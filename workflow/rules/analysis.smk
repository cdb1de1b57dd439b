rule fit_mp:
    input:
        spectra=f"{RUN_DIR}/spectra.parquet",
    output:
        fits=f"{RUN_DIR}/mp_fit.parquet",
        spikes=f"{RUN_DIR}/spikes.parquet",
        curve=f"{RUN_DIR}/avew_curve.parquet",
    log:
        f"logs/fit_mp/{RUN_PATH}.log",
    benchmark:
        f"logs/fit_mp/{RUN_PATH}.benchmark.tsv"
    params:
        methods=get_config("analysis", "methods"),
        alpha=get_config("analysis", "bema", "alpha"),
        a=get_config("analysis", "gb", "a"),
        beta=get_config("analysis", "beta"),
        k_fraction=get_config("analysis", "prune", "k_fraction"),
        code=get_code("fit_mp"),
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


rule fit_heavy_tail:
    input:
        spectra=f"{RUN_DIR}/spectra.parquet",
    output:
        heavy_tail=f"{RUN_DIR}/heavy_tail.parquet",
    log:
        f"logs/fit_heavy_tail/{RUN_PATH}.log",
    benchmark:
        f"logs/fit_heavy_tail/{RUN_PATH}.benchmark.tsv"
    params:
        heavy_tail=get_config("analysis", "heavy_tail"),
        code=get_code("fit_heavy_tail"),
    threads: 1
    resources:
        runtime=30,
        mem_mb=get_analysis_mem_mb,
    group:
        "analysis"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/fit_heavy_tail.py"


rule measure_universality:
    input:
        spectra=f"{RUN_DIR}/spectra.parquet",
        porter_thomas=f"{RUN_DIR}/porter_thomas.parquet",
    output:
        summary=f"{RUN_DIR}/universality.parquet",
        spacings=f"{RUN_DIR}/spacings.parquet",
        number_variance=f"{RUN_DIR}/number_variance.parquet",
    log:
        f"logs/measure_universality/{RUN_PATH}.log",
    benchmark:
        f"logs/measure_universality/{RUN_PATH}.benchmark.tsv"
    params:
        a=get_config("analysis", "universality", "a"),
        ls=get_config("analysis", "universality", "ls"),
        code=get_code("measure_universality"),
    threads: 1
    resources:
        runtime=30,
        mem_mb=get_analysis_mem_mb,
    group:
        "analysis"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/measure_universality.py"
