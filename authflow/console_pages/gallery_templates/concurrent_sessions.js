// At most two sessions per user: signing in a third time ends the session used longest ago.
var maxSessions = 2;

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            var sessions = getUserSessions(user);
            if (sessions.length < maxSessions) {
                return;
            }
            sessions.sort(function (a, b) { return a.lastAccessTime - b.lastAccessTime; });
            var surplus = sessions.length - maxSessions + 1;
            for (var i = 0; i < surplus; i++) {
                Log.info('Ending session ' + sessions[i].id + ' of ' + user.username + ' (limit ' + maxSessions + ')');
                terminateUserSession(user, sessions[i].id);
            }
        }
    });
};
