rule plot_spectrum:
    input:
        spectra=f"{RUN_DIR}/spectra.parquet",
        fits=f"{RUN_DIR}/mp_fit.parquet",
    output:
        png=report(
            f"{FIGURE_DIR}/spectrum.png",
            caption="../report/spectrum.rst",
            category="Spectra",
            subcategory="{model}",
            labels={"study": "{study}", "dataset": "{dataset}", "variant": "{variant}", "seed": "{seed}"},
        ),
        overview=report(
            f"{FIGURE_DIR}/spectrum_overview.png",
            caption="../report/spectrum_overview.rst",
            category="Spectra",
            subcategory="{model}",
            labels={"study": "{study}", "dataset": "{dataset}", "variant": "{variant}", "seed": "{seed}"},
        ),
        pdf=f"{FIGURE_DIR}/spectrum.pdf",
    log:
        f"logs/plot_spectrum/{RUN_PATH}.log",
    params:
        code=get_code("plot_spectrum"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/plot_spectrum.py"


rule plot_avew_accuracy:
    input:
        curve=f"{RUN_DIR}/avew_curve.parquet",
        prune=f"{RUN_DIR}/prune.parquet",
        fits=f"{RUN_DIR}/mp_fit.parquet",
    output:
        png=report(
            f"{FIGURE_DIR}/avew_accuracy.png",
            caption="../report/avew_accuracy.rst",
            category="Ave_w and accuracy",
            subcategory="{model}",
            labels={"study": "{study}", "dataset": "{dataset}", "variant": "{variant}", "seed": "{seed}"},
        ),
        pdf=f"{FIGURE_DIR}/avew_accuracy.pdf",
    log:
        f"logs/plot_avew_accuracy/{RUN_PATH}.log",
    params:
        layer=get_prune_layer,
        code=get_code("plot_avew_accuracy"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/plot_avew_accuracy.py"


rule plot_universality:
    input:
        spacings=f"{RUN_DIR}/spacings.parquet",
        number_variance=f"{RUN_DIR}/number_variance.parquet",
        porter_thomas=f"{RUN_DIR}/porter_thomas.parquet",
        summary=f"{RUN_DIR}/universality.parquet",
    output:
        png=report(
            f"{FIGURE_DIR}/universality.png",
            caption="../report/universality.rst",
            category="Universality",
            subcategory="{model}",
            labels={"study": "{study}", "dataset": "{dataset}", "variant": "{variant}", "seed": "{seed}"},
        ),
        pdf=f"{FIGURE_DIR}/universality.pdf",
    log:
        f"logs/plot_universality/{RUN_PATH}.log",
    params:
        code=get_code("plot_universality"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/plot_universality.py"


rule plot_comparison:
    input:
        spectra=get_study_run_files("spectra"),
        fits=get_study_run_files("mp_fit"),
        table="results/tables/{study}/compare_{key}.parquet",
    output:
        png=report(
            "results/figures/{study}/compare_{key}.png",
            caption="../report/compare.rst",
            category="Variant comparison",
            labels={"study": "{study}", "compared": "{key}"},
        ),
        pdf="results/figures/{study}/compare_{key}.pdf",
    log:
        "logs/plot_comparison/{study}/{key}.log",
    params:
        key="{key}",
        layer=get_comparison_layer,
        code=get_code("plot_comparison"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/plot_comparison.py"


rule plot_spike_counts:
    input:
        counts="results/tables/{study}/spike_counts.parquet",
        growth="results/tables/{study}/spike_growth.parquet",
    output:
        png=report(
            "results/figures/{study}/spike_counts.png",
            caption="../report/spike_counts_figure.rst",
            category="Spike-count sweep",
            labels={"study": "{study}", "figure": "spikes vs N"},
        ),
        pdf="results/figures/{study}/spike_counts.pdf",
    log:
        "logs/plot_spike_counts/{study}.log",
    params:
        code=get_code("plot_spike_counts"),
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    localrule: True
    conda:
        "../../envs/analysis.yaml"
    script:
        "../../scripts/plot_spike_counts.py"
