# The two commands a newcomer needs (see README.md).
.PHONY: run test setup web
run:    ## set up, build the page and serve it on http://127.0.0.1:8080/
	bash scripts/run.sh
test:   ## set up and run every test: native, then the page in headless Chromium
	bash scripts/test.sh
setup:  ## install toolchains and tools only
	bash scripts/setup.sh
web:    ## build the page into dist/ only
	bash scripts/build-web.sh
