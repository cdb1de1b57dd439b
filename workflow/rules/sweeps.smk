rule simulate_wigner_outliers:
    output:
        outliers="results/sweeps/wigner_outliers.parquet",
        peche="results/sweeps/peche.parquet",
    log:
        "logs/simulate_wigner_outliers/sweep.log",
    benchmark:
        "logs/simulate_wigner_outliers/sweep.benchmark.tsv"
    params:
        wigner=get_config("sweeps", "wigner"),
        code=get_code("simulate_wigner_outliers"),
    threads: 2
    resources:
        runtime=60,
        mem_mb=8000,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/simulate_wigner_outliers.py"


rule summarise_wigner_outliers:
    input:
        outliers="results/sweeps/wigner_outliers.parquet",
        peche="results/sweeps/peche.parquet",
    output:
        errors=report(
            "results/tables/sweeps/outlier_error.parquet",
            caption="../report/wigner_summary.rst",
            category="Deformed-Wigner sweep",
            labels={"table": "outlier error"},
        ),
        errors_csv="results/tables/sweeps/outlier_error.csv",
        errors_md="results/tables/sweeps/outlier_error.md",
        peche=report(
            "results/tables/sweeps/peche.parquet",
            caption="../report/peche.rst",
            category="Deformed-Wigner sweep",
            labels={"table": "Peche check"},
        ),
        peche_csv="results/tables/sweeps/peche.csv",
        peche_md="results/tables/sweeps/peche.md",
        png=report(
            "results/figures/sweeps/wigner_error.png",
            caption="../report/wigner_error.rst",
            category="Deformed-Wigner sweep",
            labels={"figure": "error vs N"},
        ),
        pdf="results/figures/sweeps/wigner_error.pdf",
    log:
        "logs/summarise_wigner_outliers/sweep.log",
    params:
        code=get_code("summarise_wigner_outliers"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/summarise_wigner_outliers.py"


rule compute_bbp_table:
    output:
        table=report(
            "results/tables/sweeps/bbp_table.parquet",
            caption="../report/bbp_table.rst",
            category="Synthetic BBP check",
            labels={"table": "paper 000 Table 1"},
        ),
        markdown="results/tables/sweeps/bbp_table.md",
        csv="results/tables/sweeps/bbp_table.csv",
    log:
        "logs/compute_bbp_table/sweep.log",
    benchmark:
        "logs/compute_bbp_table/sweep.benchmark.tsv"
    params:
        bbp=get_config("sweeps", "bbp_table"),
        alpha=get_config("analysis", "bema", "alpha"),
        code=get_code("compute_bbp_table"),
    threads: 2
    resources:
        runtime=60,
        mem_mb=4000,
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/compute_bbp_table.py"
