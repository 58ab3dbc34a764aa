# Portcullis container image: `docker build -t portcullis .`
# Configuration comes from PORTCULLIS_* variables and, for secrets, from the
# [secrets] backends (files mounted from a Secret); see docs/deployment.md.

FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 and argon2 build from source where no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORTCULLIS_DATA_DIR=/var/lib/portcullis \
    PORTCULLIS_SERVER_HOST=0.0.0.0
RUN useradd --system --uid 10001 --home-dir /var/lib/portcullis --shell /usr/sbin/nologin portcullis \
 && install -d -o portcullis -m 0700 /var/lib/portcullis
WORKDIR /opt/portcullis
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 10001
EXPOSE 5000
VOLUME /var/lib/portcullis
ENTRYPOINT ["node", "--max-semi-space-size=8", "dist/cli/main.js"]
CMD ["serve"]
