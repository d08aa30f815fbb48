"""`facepass eval …`: the commands; their work is done by the lab (facepass.lab.eval), loaded
only when a command runs so the service never imports it."""

from __future__ import annotations

from pathlib import Path

import click

from facepass.cli.groups import analysis_cache_option, data_option, eval_group, int_list


@eval_group.command("lfw")
@click.option(
    "--data",
    "data_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="LFW folder: pairs.txt and images_deepfunneled/NAME/NAME_0001.jpg.",
)
@click.option(
    "--pairs",
    "pairs_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Pairs file (default DATA/pairs.txt, View 2; pairsDevTest.txt is View 1).",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Embedding cache folder (default DATA/.facepass-cache).",
)
@click.option("--processes", default=2, show_default=True, help="Worker processes.")
@click.option(
    "--min-face-fraction",
    default=0.125,
    show_default=True,
    help="Detector scale: LFW's faces fill the frame, so 1/8 of it (the service uses 1/50).",
)
@click.option(
    "--alignment",
    "--views",
    "alignment",
    help="dlib chip views: landmarks, shape_predictor, fused, or views joined by '+', each "
    "with optional :dx=PX :dy=PX :scale=F :rot=DEG :jitter=N (default: the embedder's recipe).",
)
def lfw_command(
    data_dir: Path,
    pairs_file: Path | None,
    cache_dir: Path | None,
    processes: int,
    min_face_fraction: float,
    alignment: str | None,
) -> None:
    """LFW 10-fold verification accuracy, its spread and the threshold chosen."""
    from facepass.lab.eval.lfw import command

    command(data_dir, pairs_file, cache_dir, processes, min_face_fraction, alignment)


@eval_group.command("detect")
@click.option(
    "--xml",
    "xml_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="imglab XML (e.g. dlib's examples/faces/training.xml); images relative to it.",
)
@click.option("--iou", default=0.5, show_default=True, help="IoU for a detection to count.")
@click.option(
    "--raw-boxes",
    is_flag=True,
    help="Match CenterFace's boxes as they are, not reframed like dlib's labels.",
)
@click.option(
    "--min-scored-px",
    default=20.0,
    show_default=True,
    help="Unmatched detections smaller than this are reported, not counted as false.",
)
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    help="Resize photos and boxes first (0.6 turns 37 px faces into 22 px ones).",
)
def detect_command(
    xml_file: Path, iou: float, raw_boxes: bool, min_scored_px: float, scale: float
) -> None:
    """Recall per face-size bucket and precision against annotated boxes."""
    from facepass.lab.eval.detection import command

    command(xml_file, iou, raw_boxes, min_scored_px, scale)


@eval_group.command("retrieval")
@data_option("Folder holding lfw/ and peers/ (../shared/data).")
@click.option("--sizes", default="2000", show_default=True, help="Session sizes (photos).")
@click.option("--min-photos", type=int, default=8, show_default=True)
@click.option("--max-per-person", type=int, default=20, show_default=True)
@click.option(
    "--strategies",
    default="1-selfie,3-mean,3-union,1-selfie+qe,1-selfie+cc,2-mean+cc,3-mean+cc",
    show_default=True,
    help="Comma list of N-selfie|N-mean|N-union, optionally +qe (query expansion) and +cc"
    " (consensus of the session's faces, the API's default).",
)
@click.option("--threshold", type=float, default=None, help="Default: the model's own.")
@analysis_cache_option("Where face analyses are cached between runs.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--dataset",
    type=click.Choice(["lfw", "cfp", "cfp-groups"]),
    default="lfw",
    show_default=True,
    help="cfp: frontal and profile photos; cfp-groups: 3000x2000 group photos of 10 CFP people"
    " each, faces 24-96 px wide, built once under --cache (both need --split).",
)
@click.option(
    "--split",
    type=click.Choice(["tune", "test"]),
    default=None,
    help="Held-out protocol: 'tune' (CFP 001-200; lfw: LFW View 1 train people) is what constants"
    " are chosen on, 'test' (CFP 201-300, LFW View 1 test people) is what is reported. Without"
    " it: the earlier LFW sessions (--sizes, --strategies), which factors were tuned on.",
)
@click.option(
    "--engine",
    "engine_options",
    multiple=True,
    metavar="NAME=VALUE",
    help="cfp-groups only: an engine setting for this run (e.g. min_face_fraction=0.0125),"
    " for measuring detection policies; repeatable.",
)
@click.option(
    "--selfies",
    "selfie_path",
    type=click.Choice(["search", "index"]),
    default="search",
    show_default=True,
    help="Held-out protocol: analyse the selfies as the search does (the selfie path), or as"
    " indexing analyses photos (the search before the selfie path).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def eval_retrieval(
    data_dir: Path,
    sizes: str,
    min_photos: int,
    max_per_person: int,
    strategies: str,
    threshold: float | None,
    cache_dir: Path,
    seed: int,
    dataset: str,
    split: str | None,
    engine_options: tuple[str, ...],
    selfie_path: str,
    as_json: bool,
) -> None:
    """Precision and recall of selfie search in sessions of real labelled photos."""
    if dataset == "cfp-groups":
        from facepass.lab.eval.groups_command import command as group_photos
        from facepass.lab.eval.groups_command import engine_overrides

        if split not in ("tune", "test"):
            raise click.UsageError("--dataset cfp-groups needs --split tune|test")
        overrides = engine_overrides(engine_options)
        group_photos(data_dir, split, cache_dir, seed, overrides, as_json)  # type: ignore[arg-type]
        return
    if engine_options:
        raise click.UsageError("--engine is for --dataset cfp-groups")
    if split is not None or dataset == "cfp":
        from facepass.lab.eval.heldout_command import command as heldout

        if split not in ("tune", "test"):
            raise click.UsageError("--dataset cfp needs --split tune|test")
        heldout(data_dir, dataset, split, cache_dir, as_json, selfie_path)  # type: ignore[arg-type]
        return
    from facepass.lab.eval.retrieval_command import command

    command(
        data_dir,
        int_list(sizes),
        min_photos,
        max_per_person,
        strategies,
        threshold,
        cache_dir,
        seed,
        as_json,
    )


@eval_group.command("people")
@data_option("Folder holding cfp/ and lfw/ (../shared/data).")
@analysis_cache_option("Where face analyses are cached between runs (shared with eval retrieval).")
@click.option(
    "--tune/--no-tune",
    default=False,
    show_default=True,
    help="Choose the constants on the tuning sessions (CFP 001-200, LFW View 1 train) first.",
)
def eval_people(data_dir: Path, cache_dir: Path, tune: bool) -> None:
    """People grouping (purity, splits) and search through people, CFP and LFW, held out."""
    from facepass.lab.eval.people import run

    run(data_dir, cache_dir, tune)


@eval_group.command("calibrate")
@data_option("Folder holding lfw/ and cfp/ (../shared/data).")
@click.option(
    "--datasets",
    default="cfp,lfw",
    show_default=True,
    help="Tuning halves to calibrate on (CFP 001-200; lfw: LFW View 1 train people).",
)
@click.option(
    "--photos",
    "photos_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Your own labelled photos instead (a subfolder per person, 2+ photos each).",
)
@analysis_cache_option()
@click.option("--precision", type=float, default=0.99, show_default=True)
@click.option("--turned-precision", type=float, default=0.98, show_default=True)
@click.option(
    "--profile-weight",
    type=float,
    default=1.0,
    show_default=True,
    help="Weight of one frontal selfie's profile recall beside its frontal one (0: ignored).",
)
@click.option(
    "--min-frontal",
    type=float,
    default=0.95,
    show_default=True,
    help="One selfie's frontal recall below this costs ten times the shortfall.",
)
@click.option("--rounds", type=int, default=1, show_default=True, help="Passes over the grid.")
@click.option(
    "--sessions",
    "max_sessions",
    type=click.IntRange(1),
    default=None,
    help="Only the first N tuning sessions (CFP's are 100 people each; default all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
def eval_calibrate(
    data_dir: Path,
    datasets: str,
    photos_dir: Path | None,
    cache_dir: Path,
    precision: float,
    turned_precision: float,
    profile_weight: float,
    min_frontal: float,
    rounds: int,
    max_sessions: int | None,
    as_json: bool,
) -> None:
    """Tune the configured model's threshold and search factors on labelled photos."""
    from facepass.lab.eval.calibrate import Targets, command

    names = [d.strip() for d in datasets.split(",") if d.strip()]
    if any(d not in ("cfp", "lfw") for d in names):
        raise click.BadParameter("datasets are cfp and/or lfw", param_hint="--datasets")
    command(
        data_dir,
        names,
        photos_dir,
        cache_dir,
        Targets(precision, turned_precision, profile_weight, min_frontal),
        rounds,
        as_json,
        max_sessions=max_sessions,
    )


@eval_group.command("liveness")
@data_option("Evaluation data: cfp/Images/NNN/{frontal,profile}, lfw/ (View 1 people files).")
@analysis_cache_option()
@click.option(
    "--split",
    type=click.Choice(["tune", "test"]),
    default="test",
    show_default=True,
    help="CFP 001-200 with LFW peopleDevTrain (tune), or CFP 201-300 with peopleDevTest (test).",
)
@click.option(
    "--tune",
    "tune_target",
    type=float,
    help="Choose the anti-spoofing threshold on this split: the strictest that accepts this "
    "share of genuine pairs turned a little (e.g. 0.98); only with --split tune.",
)
@click.option(
    "--every",
    default=1,
    show_default=True,
    help="Every Nth CFP person of the split (a smaller sample on a loaded machine).",
)
@click.option(
    "--live-threshold",
    type=float,
    help="Judge with this anti-spoofing threshold (FACEPASS_LIVE_SPOOF_THRESHOLD) instead of "
    "the model's own (e.g. 0.5, upstream's point).",
)
def liveness_command(
    data_dir: Path,
    cache_dir: Path,
    split: str,
    tune_target: float | None,
    every: int,
    live_threshold: float | None,
) -> None:
    """The live-selfie rule on real faces: anti-spoofing false rejects (CFP, LFW, fake camera),
    its scores on event cut-outs and the upstream samples, genuine and impostor pairs, and
    pairs cut out of event photos (with and without a turned photo of the person)."""
    from facepass.lab.eval.liveness import command

    if tune_target is not None and split != "tune":
        raise click.UsageError("--tune chooses constants on the tuning split only")
    command(data_dir, cache_dir, split, tune_target, every, live_threshold)  # type: ignore[arg-type]


@eval_group.command("copies")
@data_option("Evaluation data: cfp/Images/NNN/{frontal,profile}.")
@analysis_cache_option()
@click.option(
    "--split",
    type=click.Choice(["tune", "test"]),
    default="test",
    show_default=True,
    help="CFP 001-200 (tune: also chooses the factor) or CFP 201-300 (test).",
)
@click.option(
    "--people",
    default=50,
    show_default=True,
    help="CFP people of the split, spread evenly over it.",
)
@click.option(
    "--factor",
    type=float,
    help="Judge at this copy factor (FACEPASS_LIVE_COPY_FACTOR) instead of the rule's own "
    "(with --split tune: instead of choosing one).",
)
@click.option(
    "--max-genuine-refused",
    default=0.01,
    show_default=True,
    help="With --split tune: the factor chosen is the largest of the grid refusing at most "
    "this share of genuine frames.",
)
def copies_command(
    data_dir: Path,
    cache_dir: Path,
    split: str,
    people: int,
    factor: float | None,
    max_genuine_refused: float,
) -> None:
    """The copy guard of live selfies on real faces: genuine new photos of an indexed person
    wrongly refused as copies, and crops of indexed faces (as issue 16's attacker cuts them,
    and perturbed: JPEG 60, halved, blurred, rotated, mirrored, all at once) caught. JSON on
    stdout, a table of the factor grid on stderr."""
    from facepass.lab.eval.copies import command

    command(data_dir, cache_dir, split, people, factor, max_genuine_refused)  # type: ignore[arg-type]
