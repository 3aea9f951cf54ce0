# Shortcuts for the npm scripts; `make reset_data` is the command the seed document names.
.PHONY: install start reset_data test lint

install:
	npm install

start:
	npm start

reset_data:
	npm run reset-data

test:
	npm test

lint:
	npm run lint

