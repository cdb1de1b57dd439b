rule extract_spectra:
    input:
        final=f"{RUN_DIR}/model/final.pt",
        init=f"{RUN_DIR}/model/init.pt",
    output:
        spectra=f"{RUN_DIR}/spectra.parquet",
    log:
        f"logs/extract_spectra/{RUN_KEYS}.log",
    benchmark:
        f"logs/extract_spectra/{RUN_KEYS}.benchmark.tsv"
    params:
        reshape=get_config("analysis", "reshape"),
        code=get_code("spectra"),
    threads: 1
    resources:
        runtime=15,
        mem_mb=get_analysis_mem_mb,
    group:
        "analysis"
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/extract_spectra.py"
