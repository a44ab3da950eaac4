# sdcTable's side of bench_sdctable.py (run by it; see that file and benchmarks/README.md).
#
#   Rscript bench_sdctable.R export OUTDIR [VIGNETTE_DIR]
#     writes sdcTable's datasets microdata1 and microdata2 (and, given the directory of its
#     source tree's vignettes, the vignette's microdat.rds) as CSV files into OUTDIR.
#   Rscript bench_sdctable.R run CASE_DIR METHOD REPEAT
#     protects the table described by CASE_DIR/case.json and CASE_DIR/data.csv with METHOD,
#     REPEAT times in this process, and writes CASE_DIR/METHOD.csv (every cell: its codes, count
#     and sdcStatus) and CASE_DIR/METHOD.json (the best elapsed seconds and R's heap peak).
#
# case.json: {"dims": {"name": {"code": "parent", ...}, ...}, "maxN": 3}; a code whose parent
# is "Tot" sits under the grand total. data.csv: one row per finest cell, the dimensions' codes
# and the count in column "freq".

suppressPackageStartupMessages({
  library(sdcTable)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)

hierarchy <- function(parents) {
  h <- sdcHierarchies::hier_create(root = "Tot", nodes = names(parents)[parents == "Tot"])
  level <- names(parents)[parents == "Tot"]
  while (length(level)) {
    following <- character(0)
    for (code in level) {
      children <- names(parents)[parents == code]
      if (length(children)) {
        h <- sdcHierarchies::hier_add(h, root = code, nodes = children)
        following <- c(following, children)
      }
    }
    level <- following
  }
  h
}

if (args[1] == "export") {
  out <- args[2]
  e <- new.env()
  utils::data("microdata1", "microdata2", package = "sdcTable", envir = e)
  utils::write.csv(e$microdata1, file.path(out, "microdata1.csv"), row.names = FALSE)
  utils::write.csv(e$microdata2, file.path(out, "microdata2.csv"), row.names = FALSE)
  if (length(args) > 2) {
    utils::write.csv(readRDS(file.path(args[3], "microdat.rds")),
                     file.path(out, "vignette.csv"), row.names = FALSE)
  }
  cat(as.character(utils::packageVersion("sdcTable")), "\n")
  quit(status = 0)
}

stopifnot(args[1] == "run", length(args) == 4)
dir <- args[2]
method <- args[3]
repeats <- as.integer(args[4])
case <- jsonlite::read_json(file.path(dir, "case.json"))
data <- utils::read.csv(file.path(dir, "data.csv"), colClasses = "character")
data$freq <- as.numeric(data$freq)
dims <- names(case$dims)
dim_list <- lapply(case$dims, function(p) hierarchy(unlist(p)))
names(dim_list) <- dims

problem <- function() {
  p <- makeProblem(data = data, dimList = dim_list, dimVarInd = match(dims, names(data)),
                   freqVarInd = match("freq", names(data)))
  primarySuppression(p, type = "freq", maxN = case$maxN)
}

best <- Inf
invisible(gc(reset = TRUE))
for (i in seq_len(repeats)) {
  p <- problem()
  started <- proc.time()[["elapsed"]]
  protected <- if (method == "OPT") {
    protectTable(p, method = "OPT", timeLimit = 1)
  } else {
    protectTable(p, method = method)
  }
  best <- min(best, proc.time()[["elapsed"]] - started)
}
heap <- gc()
final <- as.data.frame(getInfo(protected, type = "finalData"))
utils::write.csv(setNames(final[, c(dims, "Freq", "sdcStatus")], c(dims, "freq", "sdcStatus")), file.path(dir, paste0(method, ".csv")),
                 row.names = FALSE)
jsonlite::write_json(list(
  seconds = best,
  heap_peak_mib = sum(heap[, ncol(heap)]),
  sdctable = as.character(utils::packageVersion("sdcTable")),
  r = R.version.string
), file.path(dir, paste0(method, ".json")), auto_unbox = TRUE)
