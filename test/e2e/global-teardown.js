// Stops the platform the way Ctrl-C does, then removes its streams and database.
module.exports = async () => {
  await globalThis.__TRIGRUN_PLATFORM__?.stop();
};
